package e2e_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/test/harness"
)

// Issue 18: deleting a user never silently deletes the team's workflows.
func TestDeleteUserWhoOwnsWorkflows(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, auditFast())
	admin := s.AdminToken(t)
	leaverID, name, pw := s.CreateUser(t, admin, "editor")
	leaver := s.Login(t, name, pw)
	heirID, heirName, heirPW := s.CreateUser(t, admin, "editor")
	viewerID, _, _ := s.CreateUser(t, admin, "viewer")
	disabledID, _, _ := s.CreateUser(t, admin, "admin")
	idWantStatus(t, s.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+disabledID, admin, map[string]any{"disabled": true})), http.StatusOK, "")

	hookPath := "e2e-transfer-" + strings.ToLower(leaverID[:12])
	hooked := wfCreate(t, s, leaver, map[string]any{
		"name": "hooked", "active": true,
		"webhook": map[string]any{"path": hookPath, "auth": map[string]any{"type": "header", "name": "X-Sender-Id", "value": "transfer-hook-secret"}},
	})
	plain := wfCreate(t, s, leaver, map[string]any{"name": "plain"})
	deliver := func() *harness.Response {
		return s.DoRaw(t, harness.Req{
			Method: http.MethodPost, Path: "/webhook/" + hookPath, Body: `{"n":1}`,
			Headers: map[string]string{"X-Sender-Id": "transfer-hook-secret"},
		})
	}
	if r := deliver(); r.Status != http.StatusAccepted {
		t.Fatalf("delivery before: %d %s", r.Status, r.Body)
	}
	del := func(query string) *harness.Response {
		return s.Do(t, idUserReq(http.MethodDelete, "/api/v1/users/"+leaverID+query, admin, nil))
	}

	// No decision: 409 saying how many and how to proceed; nothing changes,
	// not even the user's session.
	r := del("")
	idWantStatus(t, r, http.StatusConflict, "CONFLICT")
	msg, _ := r.Map(t)["message"].(string)
	for _, want := range []string{"2 workflows", "transferTo", "deleteWorkflows=true"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("409 message %q does not say %q", msg, want)
		}
	}
	idWantStatus(t, idMe(t, s, leaver), http.StatusOK, "")
	wfStatus(t, s, http.MethodGet, wfPath+"/"+plain.ID, admin, nil, http.StatusOK)

	// Bad parameters: 400 naming the parameter, nothing changes.
	for query, field := range map[string]string{
		"?transferTo=":                                    "transferTo",
		"?transferTo=" + leaverID:                         "transferTo",
		"?transferTo=no-such-user":                        "transferTo",
		"?transferTo=" + viewerID:                         "transferTo",
		"?transferTo=" + disabledID:                       "transferTo",
		"?deleteWorkflows=yes":                            "deleteWorkflows",
		"?deleteWorkflows=true&deleteWorkflows=true":      "deleteWorkflows",
		"?transferTo=" + heirID + "&deleteWorkflows=true": "deleteWorkflows",
	} {
		r := del(query)
		idWantStatus(t, r, http.StatusBadRequest, "INVALID_REQUEST")
		if !strings.Contains(string(r.Body), `"field":"`+field+`"`) {
			t.Fatalf("DELETE %s: %s, want details naming %s", query, r.Body, field)
		}
	}
	idWantStatus(t, idMe(t, s, leaver), http.StatusOK, "")

	// Transfer: the user is gone, their token dies, the workflows belong to
	// the heir with their webhook and deliveries, and the audit says so.
	idWantStatus(t, del("?transferTo="+url.QueryEscape(heirID)), http.StatusNoContent, "")
	idWantStatus(t, idMe(t, s, leaver), http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, s.Do(t, idUserReq(http.MethodGet, "/api/v1/users/"+leaverID, admin, nil)), http.StatusNotFound, "NOT_FOUND")
	heir := s.Login(t, heirName, heirPW)
	for _, id := range []string{hooked.ID, plain.ID} {
		var wf wfWorkflow
		wfStatus(t, s, http.MethodGet, wfPath+"/"+id, heir, nil, http.StatusOK).JSON(t, &wf)
		if wf.OwnerID != heirID {
			t.Fatalf("workflow %s owned by %s after the transfer, want %s", id, wf.OwnerID, heirID)
		}
	}
	wfStatus(t, s, http.MethodPut, wfPath+"/"+plain.ID, heir, map[string]any{"name": "mine now"}, http.StatusOK)
	if r := deliver(); r.Status != http.StatusAccepted {
		t.Fatalf("delivery after the transfer: %d %s", r.Status, r.Body)
	}
	var execs struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	wfStatus(t, s, http.MethodGet, wfPath+"/"+hooked.ID+"/executions", heir, nil, http.StatusOK).JSON(t, &execs)
	if len(execs.Data) != 2 {
		t.Fatalf("%d deliveries after the transfer, want the old and the new one", len(execs.Data))
	}
	auditDeletion(t, s, admin, leaverID, map[string]string{"workflows": "2", "workflowsTransferredTo": heirID})

	// Explicit deletion: the workflows, their webhook and deliveries go.
	goner, gName, gPW := s.CreateUser(t, admin, "editor")
	gTok := s.Login(t, gName, gPW)
	gonePath := "e2e-gone-" + strings.ToLower(goner[:12])
	gone := wfCreate(t, s, gTok, map[string]any{
		"name": "gone", "active": true,
		"webhook": map[string]any{"path": gonePath, "auth": map[string]any{"type": "none"}},
	})
	idWantStatus(t, s.Do(t, idUserReq(http.MethodDelete, "/api/v1/users/"+goner+"?deleteWorkflows=true", admin, nil)), http.StatusNoContent, "")
	wfStatus(t, s, http.MethodGet, wfPath+"/"+gone.ID, admin, nil, http.StatusNotFound)
	if r := s.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/webhook/" + gonePath, Body: `{}`}); r.Status != http.StatusNotFound {
		t.Fatalf("webhook of a deleted workflow: %d %s", r.Status, r.Body)
	}
	auditDeletion(t, s, admin, goner, map[string]string{"workflows": "1", "workflowsDeleted": "true"})

	// A user without workflows is deleted as before, parameters or not.
	plainUser, _, _ := s.CreateUser(t, admin, "viewer")
	idWantStatus(t, s.Do(t, idUserReq(http.MethodDelete, "/api/v1/users/"+plainUser+"?deleteWorkflows=false", admin, nil)), http.StatusNoContent, "")
	auditDeletion(t, s, admin, plainUser, map[string]string{"workflows": "0"})
}

// auditDeletion waits for the user.delete event of target and checks its
// metadata holds want.
func auditDeletion(t *testing.T, s *harness.Server, admin, target string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, body := auditAll(t, s, admin, url.Values{"action": {"user.delete"}})
		for _, e := range events {
			if e.TargetID == nil || *e.TargetID != target {
				continue
			}
			for k, v := range want {
				if e.Metadata[k] != v {
					t.Fatalf("user.delete of %s: metadata %v, want %s=%q", target, e.Metadata, k, v)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no user.delete event for %s: %s", target, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
