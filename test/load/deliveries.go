package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// nameExecutions is the scenario that lists full pages of large webhook
// deliveries: a page holds at most 4 MiB of bodies (contract §8), so three
// concurrent full pages must not take the server's memory up by the
// pages' 250 MiB of bodies each, as they did before that bound.
const nameExecutions = "JWT GET executions 250 x 1 MiB"

var deliveries = flag.Int("deliveries", 250, "1 MiB webhook deliveries seeded for the executions scenario (0: skip it)")

// deliveryBody is a JSON body of just under the default 1 MiB body limit.
var deliveryBody = []byte(`{"pad":"` + strings.Repeat("d", 1<<20-1024) + `"}`)

// seedDeliveries makes sure a webhook workflow holds n deliveries of 1 MiB
// (a rerun against the same database adds none) and returns its id.
func seedDeliveries(ctx context.Context, token string, n int) (string, error) {
	var list struct {
		Data []struct {
			ID      string `json:"id"`
			Webhook *struct {
				Path string `json:"path"`
			} `json:"webhook"`
		} `json:"data"`
	}
	if err := call(ctx, http.MethodGet, "/api/v1/workflows?limit=250", token, nil, &list); err != nil {
		return "", err
	}
	id := ""
	for _, wf := range list.Data {
		if wf.Webhook != nil && wf.Webhook.Path == "load/deliveries" {
			id = wf.ID
		}
	}
	if id == "" {
		var created struct {
			ID string `json:"id"`
		}
		wf := map[string]any{"name": "load-deliveries", "active": true, "webhook": map[string]any{"path": "load/deliveries", "auth": map[string]any{"type": "none"}}}
		if err := call(ctx, http.MethodPost, "/api/v1/workflows", token, wf, &created); err != nil {
			return "", err
		}
		id = created.ID
	}
	have, err := countDeliveries(ctx, token, id)
	if err != nil {
		return "", err
	}
	missing := n - have
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	work := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for range work {
				req, err := newRequest(ctx, http.MethodPost, "/webhook/load/deliveries", deliveryBody)
				if err == nil {
					err = send(req, http.StatusAccepted, nil)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	for range max(missing, 0) {
		if ctx.Err() != nil || len(errs) > 0 {
			break
		}
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return "", fmt.Errorf("deliver: %w", err)
	default:
	}
	return id, nil
}

// countDeliveries counts the workflow's deliveries on its first page (up
// to 250). It reads the answer with send, not call, which stops at 1 MiB.
func countDeliveries(ctx context.Context, token, id string) (int, error) {
	req, err := newRequest(ctx, http.MethodGet, "/api/v1/workflows/"+id+"/executions?limit=250", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	var page struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := send(req, http.StatusOK, &page); err != nil {
		return 0, err
	}
	return len(page.Data), nil
}

// executionsWorker lists the seeded workflow's first full page.
func executionsWorker(id, token string) func(context.Context) (worker, error) {
	return getWorker("/api/v1/workflows/"+id+"/executions?limit=250", map[string]string{"Authorization": "Bearer " + token})
}
