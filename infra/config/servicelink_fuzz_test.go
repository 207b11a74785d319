package config

import (
	"strings"
	"testing"
)

// FuzzServiceLink: the recogniser never panics, accepts only M9M_ names
// that are no config key, and what it accepts is one of the shapes.
func FuzzServiceLink(f *testing.F) {
	for _, kv := range []string{
		"M9M_SERVICE_HOST=10.96.0.20", "M9M_SERVICE_PORT=8080", "M9M_SERVICE_PORT_HTTP=8080",
		"M9M_PORT=tcp://10.96.0.20:8080", "M9M_PORT_8080_TCP=tcp://10.96.0.20:8080",
		"M9M_PORT_8080_TCP_PROTO=tcp", "M9M_PORT_8080_TCP_PORT=8080", "M9M_PORT_8080_TCP_ADDR=10.96.0.20",
		"M9M_PORT_53_UDP=udp://[fd00::a]:53", "M9M_SERVER_PORT=8080", "M9M_PORT=tcp://:0", "M9M_PORT_0_TCP_PORT=0",
	} {
		name, val, _ := strings.Cut(kv, "=")
		f.Add(name, val)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if !isServiceLink(name, value) {
			return
		}
		rest, ok := strings.CutPrefix(name, EnvPrefix)
		if !ok || (!strings.HasPrefix(rest, "SERVICE_") && rest != "PORT" && !strings.HasPrefix(rest, "PORT_")) {
			t.Fatalf("accepted %q=%q, which is not a service-link name", name, value)
		}
		if _, known := schema().byEnv[name]; known {
			t.Fatalf("accepted the config variable %s as a service link", name)
		}
	})
}
