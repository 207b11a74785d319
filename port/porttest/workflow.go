package porttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// WorkflowStores are the stores under test of one workflow backend.
type WorkflowStores struct {
	Workflows  port.WorkflowStore
	Lister     port.WorkflowLister
	Executions port.ExecutionStore
	// NewOwner returns the ID of a user that may own workflows (Postgres
	// checks the foreign key; the memory store accepts any ID).
	NewOwner func(t *testing.T) string
}

// WorkflowStore runs the contract of port.WorkflowStore, port.WorkflowLister
// and port.ExecutionStore.
func WorkflowStore(t *testing.T, setup func(t *testing.T) WorkflowStores) {
	ctx := context.Background()

	t.Run("create then get returns every field", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), hmacHook("hooks/"+domain.NewID()))
		noErr(t, s.Workflows.Create(ctx, wf))
		got, err := s.Workflows.Get(ctx, wf.ID)
		noErr(t, err)
		sameWorkflow(t, got, wf)
		got, err = s.Workflows.GetByWebhookPath(ctx, wf.Webhook.Path)
		noErr(t, err)
		sameWorkflow(t, got, wf)
	})

	t.Run("every auth type round-trips; no webhook is nil", func(t *testing.T) {
		s := setup(t)
		owner := s.NewOwner(t)
		p := "rt/" + domain.NewID()
		for _, hook := range []*workflow.Webhook{
			nil,
			{Path: p + "/none", Auth: workflow.WebhookAuth{Type: workflow.AuthNone}},
			{Path: p + "/header", Auth: workflow.WebhookAuth{Type: workflow.AuthHeader, HeaderName: "X-Token", HeaderValueDigest: workflow.Digest("v")}},
			{Path: p + "/basic", Auth: workflow.WebhookAuth{Type: workflow.AuthBasic, BasicUsername: "hook", BasicPasswordDigest: workflow.Digest("pw")}},
			hmacHook(p + "/hmac"),
		} {
			wf := newWorkflow(owner, hook)
			noErr(t, s.Workflows.Create(ctx, wf))
			got, err := s.Workflows.Get(ctx, wf.ID)
			noErr(t, err)
			sameWorkflow(t, got, wf)
		}
	})

	t.Run("unknown id or path is not found", func(t *testing.T) {
		s := setup(t)
		_, err := s.Workflows.Get(ctx, domain.NewID())
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.Workflows.GetByWebhookPath(ctx, "nope/"+domain.NewID())
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.Workflows.Update(ctx, domain.NewID(), func(*workflow.Workflow) error { return nil })
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, s.Workflows.Delete(ctx, domain.NewID()), domain.ErrNotFound)
	})

	t.Run("duplicate id is a conflict", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), nil)
		noErr(t, s.Workflows.Create(ctx, wf))
		dup := newWorkflow(wf.OwnerID, nil)
		dup.ID = wf.ID
		wantErr(t, s.Workflows.Create(ctx, dup), domain.ErrConflict)
	})

	t.Run("a webhook path belongs to one workflow, case-sensitively", func(t *testing.T) {
		s := setup(t)
		owner := s.NewOwner(t)
		path := "Unique/" + domain.NewID()
		first := newWorkflow(owner, hmacHook(path))
		noErr(t, s.Workflows.Create(ctx, first))
		wantErr(t, s.Workflows.Create(ctx, newWorkflow(owner, hmacHook(path))), domain.ErrConflict)

		lower := newWorkflow(owner, hmacHook("unique/"+path[len("Unique/"):]))
		noErr(t, s.Workflows.Create(ctx, lower))
		_, err := s.Workflows.Update(ctx, lower.ID, func(wf *workflow.Workflow) error {
			wf.Webhook.Path = path
			return nil
		})
		wantErr(t, err, domain.ErrConflict)
		got, err := s.Workflows.GetByWebhookPath(ctx, path)
		noErr(t, err)
		if got.ID != first.ID {
			t.Fatalf("path resolves to %s, want %s", got.ID, first.ID)
		}

		// Freed paths can be taken again; workflows without webhooks never clash.
		_, err = s.Workflows.Update(ctx, first.ID, func(wf *workflow.Workflow) error { wf.Webhook = nil; return nil })
		noErr(t, err)
		_, err = s.Workflows.GetByWebhookPath(ctx, path)
		wantErr(t, err, domain.ErrNotFound)
		noErr(t, s.Workflows.Create(ctx, newWorkflow(owner, hmacHook(path))))
		noErr(t, s.Workflows.Create(ctx, newWorkflow(owner, nil)))
		noErr(t, s.Workflows.Create(ctx, newWorkflow(owner, nil)))
	})

	t.Run("inactive workflows are still found by path", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), hmacHook("inactive/"+domain.NewID()))
		wf.Active = false
		noErr(t, s.Workflows.Create(ctx, wf))
		got, err := s.Workflows.GetByWebhookPath(ctx, wf.Webhook.Path)
		noErr(t, err)
		if got.Active {
			t.Fatal("Active = true, want false")
		}
	})

	t.Run("update stores fn's changes but not ID, owner or creation time", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), nil)
		noErr(t, s.Workflows.Create(ctx, wf))
		later := wf.UpdatedAt.Add(time.Hour)
		want := *wf
		want.Name, want.Active, want.UpdatedAt = "renamed", false, later
		want.Nodes = json.RawMessage(`[{"id":"n2"}]`)
		want.Connections = json.RawMessage(`{"n2":[]}`)
		want.Webhook = &workflow.Webhook{Path: "upd/" + domain.NewID(), Auth: workflow.WebhookAuth{Type: workflow.AuthNone}}
		got, err := s.Workflows.Update(ctx, wf.ID, func(w *workflow.Workflow) error {
			sameWorkflow(t, w, wf)
			w.Name, w.Active, w.UpdatedAt = want.Name, want.Active, want.UpdatedAt
			w.Nodes, w.Connections, w.Webhook = want.Nodes, want.Connections, want.Webhook
			w.ID, w.OwnerID, w.CreatedAt = "other", "other", later
			return nil
		})
		noErr(t, err)
		sameWorkflow(t, got, &want)
		stored, err := s.Workflows.Get(ctx, wf.ID)
		noErr(t, err)
		sameWorkflow(t, stored, &want)
	})

	t.Run("an error from fn aborts the update and is returned unchanged", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), nil)
		noErr(t, s.Workflows.Create(ctx, wf))
		boom := errors.New("boom")
		_, err := s.Workflows.Update(ctx, wf.ID, func(w *workflow.Workflow) error {
			w.Name = "changed"
			return boom
		})
		if err != boom { //nolint:errorlint // the contract says unchanged
			t.Fatalf("error = %v, want the closure's own error", err)
		}
		got, err := s.Workflows.Get(ctx, wf.ID)
		noErr(t, err)
		sameWorkflow(t, got, wf)
	})

	t.Run("concurrent updates serialize", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), nil)
		wf.Name = "0"
		noErr(t, s.Workflows.Create(ctx, wf))
		const n = 10
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Workflows.Update(ctx, wf.ID, func(w *workflow.Workflow) error {
					var v int
					if _, err := fmt.Sscan(w.Name, &v); err != nil {
						return err
					}
					w.Name = fmt.Sprint(v + 1)
					return nil
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			noErr(t, err)
		}
		got, err := s.Workflows.Get(ctx, wf.ID)
		noErr(t, err)
		if got.Name != fmt.Sprint(n) {
			t.Fatalf("after %d increments Name = %s (lost updates)", n, got.Name)
		}
	})

	t.Run("delete removes the workflow, its path and its executions", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), hmacHook("del/"+domain.NewID()))
		noErr(t, s.Workflows.Create(ctx, wf))
		noErr(t, s.Executions.Create(ctx, newExecution(wf.ID, base)))
		noErr(t, s.Workflows.Delete(ctx, wf.ID))
		_, err := s.Workflows.Get(ctx, wf.ID)
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.Workflows.GetByWebhookPath(ctx, wf.Webhook.Path)
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, s.Workflows.Delete(ctx, wf.ID), domain.ErrNotFound)
		list, next, err := s.Executions.ListByWorkflow(ctx, wf.ID, "", 10)
		noErr(t, err)
		if len(list) != 0 || next != "" {
			t.Fatalf("executions of a deleted workflow: %d, next %q", len(list), next)
		}
	})

	t.Run("list pages through every workflow once, in order", func(t *testing.T) {
		s := setup(t)
		owner := s.NewOwner(t)
		mine := map[string]bool{}
		start := base.Add(time.Duration(time.Now().UnixNano()%1e6) * time.Microsecond)
		for i := range 7 {
			wf := newWorkflow(owner, nil)
			wf.CreatedAt = start.Add(time.Duration(i%3) * time.Second) // ties broken by ID
			noErr(t, s.Workflows.Create(ctx, wf))
			mine[wf.ID] = true
		}
		var all []workflow.Workflow
		cursor, pages := "", 0
		for {
			page, next, err := s.Lister.List(ctx, cursor, 3)
			noErr(t, err)
			if len(page) > 3 {
				t.Fatalf("page of %d, limit 3", len(page))
			}
			all = append(all, page...)
			pages++
			if next == "" {
				break
			}
			cursor = next
		}
		seen := map[string]bool{}
		for i, wf := range all {
			if seen[wf.ID] {
				t.Fatalf("workflow %s listed twice", wf.ID)
			}
			seen[wf.ID] = true
			if i > 0 {
				prev := all[i-1]
				if c := prev.CreatedAt.Compare(wf.CreatedAt); c > 0 || c == 0 && prev.ID >= wf.ID {
					t.Fatalf("out of order at %d: (%v,%s) then (%v,%s)", i, prev.CreatedAt, prev.ID, wf.CreatedAt, wf.ID)
				}
			}
		}
		for id := range mine {
			if !seen[id] {
				t.Fatalf("workflow %s never listed", id)
			}
		}
		if pages < 3 {
			t.Fatalf("%d pages for at least 7 workflows at 3 a page", pages)
		}
	})

	t.Run("list refuses a bad limit or cursor", func(t *testing.T) {
		s := setup(t)
		for _, limit := range []int{0, -1, port.MaxListLimit + 1} {
			_, _, err := s.Lister.List(ctx, "", limit)
			wantInvalidField(t, err, "limit")
			_, _, err = s.Executions.ListByWorkflow(ctx, domain.NewID(), "", limit)
			wantInvalidField(t, err, "limit")
		}
		for _, c := range append([]string{"!!", "e30", "bm90IGpzb24"}, unstorableCursors...) {
			_, _, err := s.Lister.List(ctx, c, 10)
			wantInvalidField(t, err, "cursor")
			_, _, err = s.Executions.ListByWorkflow(ctx, domain.NewID(), c, 10)
			wantInvalidField(t, err, "cursor")
		}
	})

	t.Run("executions round-trip, body byte for byte, newest first, paged", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), nil)
		noErr(t, s.Workflows.Create(ctx, wf))
		other := newWorkflow(wf.OwnerID, nil)
		noErr(t, s.Workflows.Create(ctx, other))
		noErr(t, s.Executions.Create(ctx, newExecution(other.ID, base)))
		var want []*workflow.Execution
		for i := range 5 {
			e := newExecution(wf.ID, base.Add(time.Duration(i/2)*time.Second)) // ties broken by ID
			noErr(t, s.Executions.Create(ctx, e))
			want = append(want, e)
		}
		var got []workflow.Execution
		cursor := ""
		for {
			page, next, err := s.Executions.ListByWorkflow(ctx, wf.ID, cursor, 2)
			noErr(t, err)
			got = append(got, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(got) != len(want) {
			t.Fatalf("listed %d executions, want %d", len(got), len(want))
		}
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			if c := a.ReceivedAt.Compare(b.ReceivedAt); c < 0 || c == 0 && a.ID <= b.ID {
				t.Fatalf("not newest first at %d", i)
			}
		}
		byID := map[string]*workflow.Execution{}
		for _, e := range want {
			byID[e.ID] = e
		}
		for _, e := range got {
			w, ok := byID[e.ID]
			if !ok {
				t.Fatalf("execution %s is not one of this workflow's", e.ID)
			}
			sameTime(t, "ReceivedAt", e.ReceivedAt, w.ReceivedAt)
			if e.WorkflowID != w.WorkflowID || e.SourceIP != w.SourceIP || !reflect.DeepEqual(e.Headers, w.Headers) {
				t.Fatalf("execution = %+v, want %+v", e, *w)
			}
			if !bytes.Equal(e.Body, w.Body) {
				t.Fatalf("body = %s, want exactly %s", e.Body, w.Body)
			}
		}
	})

	t.Run("a page carries at most MaxPageBodyBytes of bodies; Get reads any one", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), nil)
		noErr(t, s.Workflows.Create(ctx, wf))
		other := newWorkflow(wf.OwnerID, nil)
		noErr(t, s.Workflows.Create(ctx, other))
		big := func(i int) json.RawMessage { // a JSON string of 1 MiB - 1000 bytes
			return json.RawMessage(`"` + strings.Repeat(string(rune('a'+i)), 1<<20-1002) + `"`)
		}
		small := newExecution(wf.ID, base) // the oldest: last on the page
		noErr(t, s.Executions.Create(ctx, small))
		var bigs []*workflow.Execution
		for i := range 6 {
			e := newExecution(wf.ID, base.Add(time.Duration(6-i)*time.Second)) // newest first
			e.Body = big(i)
			noErr(t, s.Executions.Create(ctx, e))
			bigs = append(bigs, e)
		}
		page, _, err := s.Executions.ListByWorkflow(ctx, wf.ID, "", 10)
		noErr(t, err)
		if len(page) != 7 {
			t.Fatalf("listed %d executions, want 7", len(page))
		}
		total := 0
		for i, e := range page {
			total += len(e.Body)
			// Four bodies of 1 MiB - 1000 fit in 4 MiB; the next two do not;
			// the small one still does.
			wantBody := i < 4 || i == 6
			if wantBody == e.BodyOmitted || wantBody != (len(e.Body) > 0) {
				t.Fatalf("execution %d: BodyOmitted=%v with %d body bytes, want body=%v", i, e.BodyOmitted, len(e.Body), wantBody)
			}
			if wantBody && i < 4 && !bytes.Equal(e.Body, bigs[i].Body) {
				t.Fatalf("execution %d: body differs", i)
			}
		}
		if total > port.MaxPageBodyBytes {
			t.Fatalf("a page carried %d bytes of bodies, want at most %d", total, port.MaxPageBodyBytes)
		}
		got, err := s.Executions.Get(ctx, wf.ID, bigs[5].ID)
		noErr(t, err)
		if got.BodyOmitted || !bytes.Equal(got.Body, bigs[5].Body) || got.ID != bigs[5].ID || got.SourceIP != bigs[5].SourceIP {
			t.Fatalf("Get returned %s with %d body bytes, want the whole execution", got.ID, len(got.Body))
		}
		sameTime(t, "ReceivedAt", got.ReceivedAt, bigs[5].ReceivedAt)
		_, err = s.Executions.Get(ctx, other.ID, bigs[5].ID)
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.Executions.Get(ctx, wf.ID, domain.NewID())
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("prune keeps the newest executions of one workflow only", func(t *testing.T) {
		s := setup(t)
		wf := newWorkflow(s.NewOwner(t), nil)
		noErr(t, s.Workflows.Create(ctx, wf))
		other := newWorkflow(wf.OwnerID, nil)
		noErr(t, s.Workflows.Create(ctx, other))
		noErr(t, s.Executions.Create(ctx, newExecution(other.ID, base)))
		var newest []string
		for i := range 6 {
			e := newExecution(wf.ID, base.Add(time.Duration(i)*time.Second))
			noErr(t, s.Executions.Create(ctx, e))
			if i >= 4 {
				newest = append([]string{e.ID}, newest...)
			}
		}
		n, err := s.Executions.Prune(ctx, wf.ID, 2)
		noErr(t, err)
		if n != 4 {
			t.Fatalf("Prune deleted %d, want 4", n)
		}
		list, _, err := s.Executions.ListByWorkflow(ctx, wf.ID, "", 10)
		noErr(t, err)
		if len(list) != 2 || list[0].ID != newest[0] || list[1].ID != newest[1] {
			t.Fatalf("after Prune: %d executions, want the 2 newest", len(list))
		}
		n, err = s.Executions.Prune(ctx, wf.ID, 2)
		noErr(t, err)
		if n != 0 {
			t.Fatalf("second Prune deleted %d, want 0", n)
		}
		list, _, err = s.Executions.ListByWorkflow(ctx, other.ID, "", 10)
		noErr(t, err)
		if len(list) != 1 {
			t.Fatalf("Prune touched another workflow: %d executions left, want 1", len(list))
		}
	})

	t.Run("an execution of an unknown workflow is a conflict", func(t *testing.T) {
		s := setup(t)
		wantErr(t, s.Executions.Create(ctx, newExecution(domain.NewID(), base)), domain.ErrConflict)
	})
}

// WebhookReplayGuard runs the contract of port.WebhookReplayGuard.
// newGuard returns an empty guard that tells time by clock.
func WebhookReplayGuard(t *testing.T, newGuard func(t *testing.T, clock *memory.Clock) port.WebhookReplayGuard) {
	ctx := context.Background()
	const ttl = 10 * time.Minute

	t.Run("the first sighting is new, the next is a replay", func(t *testing.T) {
		g := newGuard(t, memory.NewClock(base))
		d := domain.NewID()
		seen, err := g.Seen(ctx, d, ttl)
		noErr(t, err)
		if seen {
			t.Fatal("first Seen = true")
		}
		for range 3 {
			seen, err = g.Seen(ctx, d, ttl)
			noErr(t, err)
			if !seen {
				t.Fatal("repeated Seen = false")
			}
		}
		seen, err = g.Seen(ctx, domain.NewID(), ttl)
		noErr(t, err)
		if seen {
			t.Fatal("another digest Seen = true")
		}
	})

	t.Run("Forget makes a recorded digest new again, and only that one", func(t *testing.T) {
		g := newGuard(t, memory.NewClock(base))
		d, other := domain.NewID(), domain.NewID()
		for _, x := range []string{d, other} {
			_, err := g.Seen(ctx, x, ttl)
			noErr(t, err)
		}
		noErr(t, g.Forget(ctx, d))
		seen, err := g.Seen(ctx, d, ttl)
		noErr(t, err)
		if seen {
			t.Fatal("Seen after Forget = true, want a new digest")
		}
		seen, err = g.Seen(ctx, d, ttl)
		noErr(t, err)
		if !seen {
			t.Fatal("Seen after Forget and Seen = false, want a replay")
		}
		seen, err = g.Seen(ctx, other, ttl)
		noErr(t, err)
		if !seen {
			t.Fatal("Forget removed another digest")
		}
		noErr(t, g.Forget(ctx, domain.NewID())) // unknown: fine
	})

	t.Run("a digest is forgotten when its ttl ends", func(t *testing.T) {
		clock := memory.NewClock(base)
		g := newGuard(t, clock)
		d := domain.NewID()
		_, err := g.Seen(ctx, d, ttl)
		noErr(t, err)
		clock.Advance(ttl - time.Second)
		seen, err := g.Seen(ctx, d, ttl)
		noErr(t, err)
		if !seen {
			t.Fatal("forgotten before its ttl")
		}
		clock.Advance(time.Second)
		seen, err = g.Seen(ctx, d, ttl)
		noErr(t, err)
		if seen {
			t.Fatal("still remembered after its ttl")
		}
		seen, err = g.Seen(ctx, d, ttl)
		noErr(t, err)
		if !seen {
			t.Fatal("not remembered again after re-recording")
		}
	})

	t.Run("of concurrent sightings exactly one is new", func(t *testing.T) {
		g := newGuard(t, memory.NewClock(base))
		d := domain.NewID()
		const n = 20
		var wg sync.WaitGroup
		results := make(chan bool, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seen, err := g.Seen(ctx, d, ttl)
				if err != nil {
					t.Error(err)
				}
				results <- seen
			}()
		}
		wg.Wait()
		close(results)
		fresh := 0
		for seen := range results {
			if !seen {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("%d of %d concurrent sightings were new, want 1", fresh, n)
		}
	})
}

func newWorkflow(owner string, hook *workflow.Webhook) *workflow.Workflow {
	at := base.Add(time.Duration(time.Now().UnixNano()%1e6) * time.Microsecond)
	return &workflow.Workflow{
		ID:          domain.NewID(),
		Name:        "wf " + domain.NewID()[:8],
		Active:      true,
		Nodes:       json.RawMessage(`[{"id":"n1","type":"http","params":{"url":"https://example.com","n":1.5}}]`),
		Connections: json.RawMessage(`{"n1":["n2"]}`),
		Webhook:     hook,
		OwnerID:     owner,
		CreatedAt:   at,
		UpdatedAt:   at,
	}
}

func hmacHook(path string) *workflow.Webhook {
	return &workflow.Webhook{Path: path, Auth: workflow.WebhookAuth{Type: workflow.AuthHMAC, HMACSecretSealed: []byte{0, 1, 2, 0xff, 'x'}}}
}

func newExecution(workflowID string, at time.Time) *workflow.Execution {
	return &workflow.Execution{
		ID:         domain.NewID(),
		WorkflowID: workflowID,
		ReceivedAt: at,
		SourceIP:   "203.0.113.7",
		Headers:    map[string]string{"User-Agent": "GitHub-Hookshot/1", "X-Github-Event": "push"},
		Body:       json.RawMessage(`{"b": 1,  "a":[1e3, "\u00e9", "\u0000"]}`),
	}
}

// sameWorkflow compares every field; JSON semantically (Postgres normalizes
// jsonb), times as instants.
func sameWorkflow(t *testing.T, got, want *workflow.Workflow) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Active != want.Active || got.OwnerID != want.OwnerID {
		t.Fatalf("workflow = %+v, want %+v", *got, *want)
	}
	sameJSON(t, "Nodes", got.Nodes, want.Nodes)
	sameJSON(t, "Connections", got.Connections, want.Connections)
	sameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt.Round(time.Microsecond))
	sameTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt.Round(time.Microsecond))
	switch {
	case got.Webhook == nil && want.Webhook == nil:
	case got.Webhook == nil || want.Webhook == nil:
		t.Fatalf("Webhook = %+v, want %+v", got.Webhook, want.Webhook)
	case !reflect.DeepEqual(*got.Webhook, *want.Webhook):
		t.Fatalf("Webhook = %+v, want %+v", *got.Webhook, *want.Webhook)
	}
}

func sameJSON(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s = %s: %v", what, got, err)
	}
	noErr(t, json.Unmarshal(want, &w))
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %s, want %s", what, got, want)
	}
}
