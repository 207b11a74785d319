// Package webhook is the public trigger of workflows: POST /webhook/{path}
// (contract §8). It finds the workflow by path, checks the caller with the
// webhook's own auth (none, header, basic or hmac; every comparison in
// constant time), and stores the delivery for users to inspect.
//
// Failures are told apart only where the contract says so: unknown or
// inactive path → 404, missing or wrong credentials of any kind → 401 with
// one message (the reason goes to the audit log, sampled), a body that is
// not JSON → 400 (after authentication, so strangers learn nothing).
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/textproto"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	flow "github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// Deps are the ports the trigger needs.
type Deps struct {
	Workflows  port.WorkflowStore
	Executions port.ExecutionStore
	Replay     port.WebhookReplayGuard
	// Sealer opens HMAC secrets; nil when no webhook encryption key is
	// configured (hmac webhooks then fail with 500, and cannot be created).
	Sealer port.SecretSealer
	Clock  port.Clock
	// Audit may be nil.
	Audit port.AuditLog
}

// Settings tune the trigger; zero values take the defaults.
type Settings struct {
	// Window is how far X-M9M-Timestamp may be from now (default 300s).
	Window time.Duration
	// AuditEvery is the sampling interval of auth-failure audit events per
	// workflow (default 1m).
	AuditEvery time.Duration
	// KeepExecutions is how many deliveries each workflow keeps (default 1000).
	KeepExecutions int
	// PruneEvery is how many deliveries of a workflow pass between prunes
	// (default 50).
	PruneEvery int
	// OnPruneError, when set, is told about a failed prune (the composition
	// root logs it); the prune is retried at the next delivery.
	OnPruneError func(workflowID string, err error)
}

// Defaults of Settings.
const (
	DefaultWindow         = 300 * time.Second
	DefaultAuditEvery     = time.Minute
	DefaultKeepExecutions = 1000
	DefaultPruneEvery     = 50
)

// Request is one delivery as received.
type Request struct {
	Path string
	// Header holds the request headers as net/http gives them (canonical keys).
	Header map[string][]string
	// Basic is the Authorization: Basic credential, nil when absent.
	Basic *BasicCredential
	// Body is the raw body (the HTTP adapter enforces the size limit).
	Body   []byte
	Client principal.Client
}

// BasicCredential is a presented basic-auth credential.
type BasicCredential struct {
	Username string
	Password string
}

var (
	// ErrNotFound means no active webhook has this path.
	ErrNotFound = domain.ErrNotFound.WithMessage("Webhook not found")
	// ErrUnauthorized means the caller did not prove it may trigger the
	// webhook: one message for every reason, so probing learns nothing.
	ErrUnauthorized = domain.ErrUnauthenticated.WithMessage("Missing or invalid webhook credentials")
	errNoSealer     = errors.New("webhook: hmac webhook but no webhook encryption key configured")
)

// Trigger runs deliveries.
type Trigger struct {
	Deps
	settings Settings
	sampler  *sampler
	failures atomic.Uint64

	mu         sync.Mutex
	deliveries map[string]int // workflow ID → deliveries since its last prune
}

// New returns a trigger over deps.
func New(deps Deps, st Settings) *Trigger {
	if st.Window <= 0 {
		st.Window = DefaultWindow
	}
	if st.AuditEvery <= 0 {
		st.AuditEvery = DefaultAuditEvery
	}
	if st.KeepExecutions <= 0 {
		st.KeepExecutions = DefaultKeepExecutions
	}
	if st.PruneEvery <= 0 {
		st.PruneEvery = DefaultPruneEvery
	}
	return &Trigger{Deps: deps, settings: st, sampler: newSampler(st.AuditEvery), deliveries: map[string]int{}}
}

// ReplayTTL is how long an accepted signature is remembered: long enough
// to cover the whole window a timestamp is valid in (now ± Window).
func (t *Trigger) ReplayTTL() time.Duration { return 2 * t.settings.Window }

// AuthFailures counts every webhook auth failure since start, audited or not.
func (t *Trigger) AuthFailures() uint64 { return t.failures.Load() }

// Trigger checks and stores one delivery and returns the execution ID.
func (t *Trigger) Trigger(ctx context.Context, req Request) (string, error) {
	wf, err := t.find(ctx, req.Path)
	if err != nil {
		return "", err
	}
	reason, mark, err := t.verify(ctx, wf, req)
	if err != nil {
		return "", err
	}
	if reason != "" {
		t.authFailed(ctx, wf, req, reason)
		return "", ErrUnauthorized
	}
	id, err := t.store(ctx, wf, req)
	if err != nil && mark != "" {
		// The signature was marked used by verify but its delivery is not
		// stored: unmark it, so the sender's retry is accepted. Should the
		// unmark fail too, the retry gets 401 until the mark expires.
		_ = t.Replay.Forget(context.WithoutCancel(ctx), mark)
	}
	return id, err
}

// store checks the body and stores the delivery, returning its ID.
func (t *Trigger) store(ctx context.Context, wf *flow.Workflow, req Request) (string, error) {
	if !utf8.Valid(req.Body) || !json.Valid(req.Body) {
		return "", domain.InvalidField("body", "must be a JSON document")
	}
	e := &flow.Execution{
		ID:         domain.NewID(),
		WorkflowID: wf.ID,
		ReceivedAt: t.Clock.Now().UTC(),
		SourceIP:   req.Client.IP,
		Headers:    StoredHeaders(req.Header, wf.Webhook.Auth.HeaderName),
		Body:       req.Body,
	}
	if err := t.Executions.Create(ctx, e); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return "", ErrNotFound // the workflow was deleted meanwhile
		}
		return "", err
	}
	t.maybePrune(ctx, wf.ID)
	return e.ID, nil
}

// find returns the active webhook workflow at path; a path that could not
// exist is refused without a lookup.
func (t *Trigger) find(ctx context.Context, path string) (*flow.Workflow, error) {
	if !flow.ValidPath(path) {
		return nil, ErrNotFound
	}
	wf, err := t.Workflows.GetByWebhookPath(ctx, path)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !wf.Active || wf.Webhook == nil {
		return nil, ErrNotFound
	}
	return wf, nil
}

// maybePrune trims the workflow's stored deliveries every PruneEvery
// deliveries. A failed prune is retried at the next one; it never fails
// the delivery that triggered it.
func (t *Trigger) maybePrune(ctx context.Context, workflowID string) {
	t.mu.Lock()
	t.deliveries[workflowID]++
	due := t.deliveries[workflowID] >= t.settings.PruneEvery
	if due {
		delete(t.deliveries, workflowID)
	} else if len(t.deliveries) > maxSampled {
		clear(t.deliveries)
	}
	t.mu.Unlock()
	if due {
		if _, err := t.Executions.Prune(ctx, workflowID, t.settings.KeepExecutions); err != nil {
			if t.settings.OnPruneError != nil {
				t.settings.OnPruneError(workflowID, err)
			}
			t.mu.Lock()
			t.deliveries[workflowID] = t.settings.PruneEvery - 1
			t.mu.Unlock()
		}
	}
}

// authFailed counts the failure and audits it, sampled per workflow.
func (t *Trigger) authFailed(ctx context.Context, wf *flow.Workflow, req Request, reason string) {
	t.failures.Add(1)
	now := t.Clock.Now()
	ok, suppressed := t.sampler.admit(wf.ID, now)
	if !ok || t.Audit == nil {
		return
	}
	meta := map[string]string{
		"reason":     reason,
		"authType":   string(wf.Webhook.Auth.Type),
		"path":       wf.Webhook.Path,
		"suppressed": strconv.FormatUint(suppressed, 10),
	}
	if req.Client.RequestID != "" {
		meta["requestId"] = req.Client.RequestID
	}
	t.Audit.Record(ctx, audit.Event{
		ID:         domain.NewID(),
		Time:       now,
		Action:     audit.ActionWebhookAuthFail,
		TargetType: "workflow",
		TargetID:   wf.ID,
		IP:         req.Client.IP,
		UserAgent:  req.Client.UserAgent,
		Outcome:    audit.OutcomeFailure,
		Metadata:   meta,
	})
}

// verify returns why req does not satisfy wf's webhook auth ("" when it
// does), or an error when that cannot be decided (503/500, never 401). An
// accepted hmac delivery also returns the replay mark it recorded, which
// the caller forgets if the delivery is not stored after all.
func (t *Trigger) verify(ctx context.Context, wf *flow.Workflow, req Request) (reason, mark string, err error) {
	a := wf.Webhook.Auth
	switch a.Type {
	case flow.AuthNone:
		return "", "", nil
	case flow.AuthHeader:
		v := first(req.Header, a.HeaderName)
		if v == "" {
			return "missing", "", nil
		}
		if !digestEqual(v, a.HeaderValueDigest) {
			return "wrong", "", nil
		}
		return "", "", nil
	case flow.AuthBasic:
		if req.Basic == nil {
			return "missing", "", nil
		}
		// Both always compared: no early exit that would time the username.
		u := digestEqual(req.Basic.Username, flow.Digest(a.BasicUsername))
		p := digestEqual(req.Basic.Password, a.BasicPasswordDigest)
		if !u || !p {
			return "wrong", "", nil
		}
		return "", "", nil
	case flow.AuthHMAC:
		return t.verifyHMAC(ctx, wf, req)
	}
	return "", "", domain.Internal(errors.New("webhook: stored auth type " + strconv.Quote(string(a.Type)) + " is unknown"))
}

// verifyHMAC checks the timestamp window, then the signature over
// timestamp + "." + body, then that the signature is new.
func (t *Trigger) verifyHMAC(ctx context.Context, wf *flow.Workflow, req Request) (reason, mark string, err error) {
	tsRaw, sigRaw := first(req.Header, HeaderTimestamp), first(req.Header, HeaderSignature)
	if tsRaw == "" || sigRaw == "" {
		return "missing", "", nil
	}
	ts, err := ParseTimestamp(tsRaw)
	if err != nil {
		return "malformed timestamp", "", nil
	}
	sig, err := ParseSignatureHeader(sigRaw)
	if err != nil {
		return "malformed signature", "", nil
	}
	if d := t.Clock.Now().Unix() - ts; d > int64(t.settings.Window/time.Second) || -d > int64(t.settings.Window/time.Second) {
		return "timestamp outside window", "", nil
	}
	if t.Sealer == nil {
		return "", "", domain.Internal(errNoSealer)
	}
	secret, err := t.Sealer.Open(wf.Webhook.Auth.HMACSecretSealed)
	if err != nil {
		return "", "", domain.Internal(err)
	}
	mac := hmac.New(sha256.New, secret)
	clear(secret)
	mac.Write([]byte(tsRaw))
	mac.Write([]byte{'.'})
	mac.Write(req.Body)
	if !hmac.Equal(mac.Sum(nil), sig) {
		return "wrong", "", nil
	}
	mark = replayKey(wf.ID, sig)
	seen, err := t.Replay.Seen(ctx, mark, t.ReplayTTL())
	if err != nil {
		return "", "", err
	}
	if seen {
		return "replayed", "", nil
	}
	return "", mark, nil
}

// replayKey is the digest under which an accepted signature is remembered:
// bound to the workflow, and not the signature itself.
func replayKey(workflowID string, sig []byte) string {
	h := sha256.New()
	h.Write([]byte(workflowID))
	h.Write([]byte{0})
	h.Write(sig)
	return hex.EncodeToString(h.Sum(nil))
}

// digestEqual compares SHA-256(presented) with a stored hex digest in
// constant time; comparing digests, not values, also hides the length.
func digestEqual(presented, storedHex string) bool {
	stored, err := hex.DecodeString(storedHex)
	if err != nil || len(stored) != sha256.Size {
		return false
	}
	sum := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(sum[:], stored) == 1
}

// first returns the first value of header name ("" when absent).
func first(h map[string][]string, name string) string {
	if v := h[textproto.CanonicalMIMEHeaderKey(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}
