package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	flow "github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/usecase/workflow"
)

// workflowsHandlers serve /api/v1/workflows (contract §7, §8).
type workflowsHandlers struct {
	svc *workflow.Service
}

// WorkflowsRoutes declares the workflow endpoints: reading needs
// workflows:read, writing workflows:write; ownership (editors change only
// their own workflows) is the use case's rule.
func WorkflowsRoutes(svc *workflow.Service) Routes {
	h := &workflowsHandlers{svc: svc}
	read, write := user.PermWorkflowsRead, user.PermWorkflowsWrite
	return Routes{
		{Method: http.MethodGet, Path: "/api/v1/workflows", Handler: h.list, Permission: read},
		{Method: http.MethodPost, Path: "/api/v1/workflows", Handler: h.create, Permission: write},
		{Method: http.MethodGet, Path: "/api/v1/workflows/:id", Handler: h.get, Permission: read},
		{Method: http.MethodPut, Path: "/api/v1/workflows/:id", Handler: h.update, Permission: write},
		{Method: http.MethodDelete, Path: "/api/v1/workflows/:id", Handler: h.delete, Permission: write},
		{Method: http.MethodGet, Path: "/api/v1/workflows/:id/executions", Handler: h.executions, Permission: read},
		{Method: http.MethodGet, Path: "/api/v1/workflows/:id/executions/:executionId", Handler: h.execution, Permission: read},
	}
}

// workflowsRequest is the body of POST and PUT.
type workflowsRequest struct {
	Name        string                   `json:"name"`
	Active      bool                     `json:"active"`
	Nodes       json.RawMessage          `json:"nodes"`
	Connections json.RawMessage          `json:"connections"`
	Webhook     *workflowsWebhookRequest `json:"webhook"`
}

type workflowsWebhookRequest struct {
	Path string                `json:"path"`
	Auth *workflowsAuthRequest `json:"auth"`
}

// workflowsAuthRequest carries secrets in; nothing carries them out.
type workflowsAuthRequest struct {
	Type     string  `json:"type"`
	Name     string  `json:"name"`
	Value    *string `json:"value"`
	Username string  `json:"username"`
	Password *string `json:"password"`
	Secret   *string `json:"secret"`
}

func (r *workflowsRequest) input() workflow.Input {
	in := workflow.Input{Name: r.Name, Active: r.Active, Nodes: r.Nodes, Connections: r.Connections}
	if w := r.Webhook; w != nil {
		in.Webhook = &workflow.WebhookInput{Path: w.Path}
		if a := w.Auth; a != nil {
			in.Webhook.Type = a.Type
			in.Webhook.HeaderName, in.Webhook.HeaderValue = a.Name, a.Value
			in.Webhook.Username, in.Webhook.Password = a.Username, a.Password
			in.Webhook.Secret = a.Secret
		}
	}
	return in
}

// workflowsBody is a workflow as the API shows it. The webhook's auth shows
// its type and non-secret fields only: secrets are write-only.
type workflowsBody struct {
	ID          string                `json:"id"`
	Name        string                `json:"name"`
	Active      bool                  `json:"active"`
	Nodes       json.RawMessage       `json:"nodes"`
	Connections json.RawMessage       `json:"connections"`
	Webhook     *workflowsWebhookBody `json:"webhook"`
	OwnerID     string                `json:"ownerId"`
	CreatedAt   string                `json:"createdAt"`
	UpdatedAt   string                `json:"updatedAt"`
}

type workflowsWebhookBody struct {
	Path string            `json:"path"`
	URL  string            `json:"url"`
	Auth workflowsAuthBody `json:"auth"`
}

type workflowsAuthBody struct {
	Type     flow.AuthType `json:"type"`
	Name     string        `json:"name,omitempty"`
	Username string        `json:"username,omitempty"`
	// Configured says a secret is stored (false only for type none).
	Configured bool `json:"configured"`
}

type workflowsListBody struct {
	Data       []workflowsBody `json:"data"`
	NextCursor *string         `json:"nextCursor"`
}

type workflowsExecutionBody struct {
	ID         string            `json:"id"`
	WorkflowID string            `json:"workflowId"`
	ReceivedAt string            `json:"receivedAt"`
	SourceIP   string            `json:"sourceIp"`
	Headers    map[string]string `json:"headers"`
	// Body is left out when BodyOmitted (a list page past its budget).
	Body        json.RawMessage `json:"body,omitempty"`
	BodyOmitted bool            `json:"bodyOmitted"`
}

func workflowsExecutionBodyOf(e *flow.Execution) workflowsExecutionBody {
	return workflowsExecutionBody{
		ID:          e.ID,
		WorkflowID:  e.WorkflowID,
		ReceivedAt:  formatAPITime(e.ReceivedAt),
		SourceIP:    e.SourceIP,
		Headers:     e.Headers,
		Body:        e.Body,
		BodyOmitted: e.BodyOmitted,
	}
}

type workflowsExecutionListBody struct {
	Data       []workflowsExecutionBody `json:"data"`
	NextCursor *string                  `json:"nextCursor"`
}

func workflowsBodyOf(wf *flow.Workflow) workflowsBody {
	b := workflowsBody{
		ID:          wf.ID,
		Name:        wf.Name,
		Active:      wf.Active,
		Nodes:       wf.Nodes,
		Connections: wf.Connections,
		OwnerID:     wf.OwnerID,
		CreatedAt:   formatAPITime(wf.CreatedAt),
		UpdatedAt:   formatAPITime(wf.UpdatedAt),
	}
	if h := wf.Webhook; h != nil {
		b.Webhook = &workflowsWebhookBody{
			Path: h.Path,
			URL:  "/webhook/" + h.Path,
			Auth: workflowsAuthBody{
				Type:       h.Auth.Type,
				Name:       h.Auth.HeaderName,
				Username:   h.Auth.BasicUsername,
				Configured: h.Auth.Type.HasSecret(),
			},
		}
	}
	return b
}

// workflowsID returns the :id parameter; a value that no ID could have is
// 404 at once, so junk never reaches the database.
func workflowsID(c echo.Context) (string, error) {
	id := c.Param("id")
	if len(id) < 1 || len(id) > 64 {
		return "", domain.ErrNotFound
	}
	for i := 0; i < len(id); i++ {
		if !workflowsIDChar(id[i]) {
			return "", domain.ErrNotFound
		}
	}
	return id, nil
}

func workflowsIDChar(ch byte) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_'
}

// workflowsPage reads ?limit= and ?cursor=; an absent limit is 0 (the
// default page size).
func workflowsPage(c echo.Context) (string, int, error) {
	cursor := c.QueryParam("cursor")
	if len(cursor) > 512 {
		return "", 0, domain.InvalidField("cursor", "malformed cursor")
	}
	raw := c.QueryParam("limit")
	if raw == "" {
		return cursor, 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > workflow.MaxPageSize {
		return "", 0, domain.InvalidField("limit", "must be an integer between 1 and 250")
	}
	return cursor, n, nil
}

func nextCursor(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h *workflowsHandlers) list(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	cursor, limit, err := workflowsPage(c)
	if err != nil {
		return err
	}
	page, err := h.svc.List(c.Request().Context(), p, cursor, limit)
	if err != nil {
		return err
	}
	body := workflowsListBody{Data: make([]workflowsBody, 0, len(page.Workflows)), NextCursor: nextCursor(page.NextCursor)}
	for i := range page.Workflows {
		body.Data = append(body.Data, workflowsBodyOf(&page.Workflows[i]))
	}
	return c.JSON(http.StatusOK, body)
}

func (h *workflowsHandlers) create(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	var req workflowsRequest
	if err := BindJSON(c, &req); err != nil {
		return err
	}
	wf, err := h.svc.Create(c.Request().Context(), p, ClientOf(c), req.input())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/workflows/"+wf.ID)
	return c.JSON(http.StatusCreated, workflowsBodyOf(wf))
}

func (h *workflowsHandlers) get(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := workflowsID(c)
	if err != nil {
		return err
	}
	wf, err := h.svc.Get(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, workflowsBodyOf(wf))
}

func (h *workflowsHandlers) update(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := workflowsID(c)
	if err != nil {
		return err
	}
	var req workflowsRequest
	if err := BindJSON(c, &req); err != nil {
		return err
	}
	wf, err := h.svc.Update(c.Request().Context(), p, ClientOf(c), id, req.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, workflowsBodyOf(wf))
}

func (h *workflowsHandlers) delete(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := workflowsID(c)
	if err != nil {
		return err
	}
	if err := h.svc.Delete(c.Request().Context(), p, ClientOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *workflowsHandlers) executions(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := workflowsID(c)
	if err != nil {
		return err
	}
	cursor, limit, err := workflowsPage(c)
	if err != nil {
		return err
	}
	page, err := h.svc.ListExecutions(c.Request().Context(), p, id, cursor, limit)
	if err != nil {
		return err
	}
	body := workflowsExecutionListBody{Data: make([]workflowsExecutionBody, 0, len(page.Executions)), NextCursor: nextCursor(page.NextCursor)}
	for i := range page.Executions {
		body.Data = append(body.Data, workflowsExecutionBodyOf(&page.Executions[i]))
	}
	return c.JSON(http.StatusOK, body)
}

// execution answers one delivery with its body.
func (h *workflowsHandlers) execution(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := workflowsID(c)
	if err != nil {
		return err
	}
	executionID := c.Param("executionId")
	if !validID(executionID) {
		return domain.ErrNotFound.WithMessage("Execution not found")
	}
	e, err := h.svc.GetExecution(c.Request().Context(), p, id, executionID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, workflowsExecutionBodyOf(e))
}
