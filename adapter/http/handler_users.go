package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/users"
)

// usersHandlers serve the admin API under /api/v1/users (users:manage).
type usersHandlers struct {
	svc *users.Service
}

// UsersRoutes declares the user administration endpoints; every one
// requires users:manage (admins).
func UsersRoutes(svc *users.Service) Routes {
	h := &usersHandlers{svc: svc}
	perm := user.PermUsersManage
	return Routes{
		{Method: http.MethodPost, Path: "/api/v1/users", Handler: h.create, Permission: perm},
		{Method: http.MethodGet, Path: "/api/v1/users", Handler: h.list, Permission: perm},
		{Method: http.MethodGet, Path: "/api/v1/users/:id", Handler: h.get, Permission: perm},
		{Method: http.MethodPatch, Path: "/api/v1/users/:id", Handler: h.update, Permission: perm},
		{Method: http.MethodDelete, Path: "/api/v1/users/:id", Handler: h.delete, Permission: perm},
		{Method: http.MethodPost, Path: "/api/v1/users/:id/revoke-credentials", Handler: h.revokeCredentials, Permission: perm},
	}
}

// usersUserBody is a user as the admin API shows it: never the hash.
type usersUserBody struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Role      user.Role `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt string    `json:"createdAt"`
	UpdatedAt string    `json:"updatedAt"`
}

type usersListBody struct {
	Data       []usersUserBody `json:"data"`
	NextCursor *string         `json:"nextCursor"`
}

type usersCreateRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

type usersUpdateRequest struct {
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

func usersBody(u *user.User) usersUserBody {
	return usersUserBody{
		ID:        u.ID,
		Username:  u.Username,
		Role:      u.Role,
		Disabled:  u.Disabled,
		CreatedAt: formatAPITime(u.CreatedAt),
		UpdatedAt: formatAPITime(u.UpdatedAt),
	}
}

func (h *usersHandlers) create(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	var req usersCreateRequest
	if err := BindJSON(c, &req); err != nil {
		return err
	}
	u, err := h.svc.Create(c.Request().Context(), p, ClientOf(c), users.CreateInput{Username: req.Username, Password: req.Password, Role: req.Role})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/users/"+u.ID)
	return c.JSON(http.StatusCreated, usersBody(u))
}

func (h *usersHandlers) list(c echo.Context) error {
	limit := 0
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			return domain.InvalidField("limit", "must be an integer between 1 and 100")
		}
		if n == 0 {
			return domain.InvalidField("limit", "must be between 1 and 100")
		}
		limit = n
	}
	page, err := h.svc.List(c.Request().Context(), c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	body := usersListBody{Data: make([]usersUserBody, 0, len(page.Users))}
	for i := range page.Users {
		body.Data = append(body.Data, usersBody(&page.Users[i]))
	}
	if page.NextCursor != "" {
		body.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, body)
}

func (h *usersHandlers) get(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := h.svc.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, usersBody(u))
}

func (h *usersHandlers) update(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req usersUpdateRequest
	if err := BindJSON(c, &req); err != nil {
		return err
	}
	in := users.UpdateInput{Role: req.Role, Disabled: req.Disabled, Password: req.Password}
	u, err := h.svc.Update(c.Request().Context(), p, ClientOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, usersBody(u))
}

func (h *usersHandlers) delete(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	in, err := usersDeleteInput(c)
	if err != nil {
		return err
	}
	if err := h.svc.Delete(c.Request().Context(), p, ClientOf(c), id, in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// usersDeleteInput reads ?transferTo={userId} and ?deleteWorkflows=true|false.
// A parameter that is present must carry a value: an empty transferTo or a
// deleteWorkflows other than true or false is a 400 naming it, never taken
// for "not given".
func usersDeleteInput(c echo.Context) (users.DeleteInput, error) {
	q := c.QueryParams()
	var in users.DeleteInput
	if q.Has("transferTo") {
		in.TransferTo = q.Get("transferTo")
		if in.TransferTo == "" || len(q["transferTo"]) > 1 {
			return in, domain.InvalidField("transferTo", "must be one user id")
		}
	}
	if q.Has("deleteWorkflows") {
		switch v := q["deleteWorkflows"]; {
		case len(v) == 1 && v[0] == "true":
			in.DeleteWorkflows = true
		case len(v) == 1 && v[0] == "false":
		default:
			return in, domain.InvalidField("deleteWorkflows", "must be true or false")
		}
	}
	return in, nil
}

type usersRevokedBody struct {
	KeysRevoked int `json:"keysRevoked"`
}

// revokeCredentials ends every session and revokes every API key of a user.
func (h *usersHandlers) revokeCredentials(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	out, err := h.svc.RevokeCredentials(c.Request().Context(), p, ClientOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, usersRevokedBody{KeysRevoked: out.KeysRevoked})
}
