package config

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Kubernetes gives every pod, for each Service of its namespace, Docker-link
// style variables named after the Service. For a Service named m9m they start
// with M9M_, like m9m's own configuration variables:
//
//	M9M_SERVICE_HOST=10.0.0.11              M9M_SERVICE_PORT=8080
//	M9M_SERVICE_PORT_HTTP=8080              M9M_PORT=tcp://10.0.0.11:8080
//	M9M_PORT_8080_TCP=tcp://10.0.0.11:8080  M9M_PORT_8080_TCP_PROTO=tcp
//	M9M_PORT_8080_TCP_PORT=8080             M9M_PORT_8080_TCP_ADDR=10.0.0.11
//
// Exactly these shapes, names and values both, are ignored rather than
// refused as unknown; every other unknown M9M_* variable is still an error.
var (
	servicePortName = regexp.MustCompile(`^SERVICE_PORT_[A-Z0-9_]+$`)
	portLink        = regexp.MustCompile(`^PORT_([0-9]{1,5})_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?$`)
)

// isServiceLink reports whether name=value is one of the variables
// Kubernetes injects for a Service named m9m.
func isServiceLink(name, value string) bool {
	rest, ok := strings.CutPrefix(name, EnvPrefix)
	if !ok {
		return false
	}
	switch {
	case rest == "SERVICE_HOST":
		return isIP(value)
	case rest == "SERVICE_PORT", servicePortName.MatchString(rest):
		return isPort(value)
	case rest == "PORT":
		_, _, ok := linkURL(value)
		return ok
	}
	m := portLink.FindStringSubmatch(rest)
	if m == nil || !isPort(m[1]) {
		return false
	}
	proto := strings.ToLower(m[2])
	switch m[3] {
	case "_PROTO":
		return value == proto
	case "_PORT":
		return value == m[1]
	case "_ADDR":
		return isIP(value)
	}
	p, port, ok := linkURL(value)
	return ok && p == proto && port == m[1]
}

// linkURL splits proto://ip:port, the value of M9M_PORT and M9M_PORT_n_PROTO.
func linkURL(v string) (proto, port string, ok bool) {
	proto, hostPort, found := strings.Cut(v, "://")
	if !found || (proto != "tcp" && proto != "udp" && proto != "sctp") {
		return "", "", false
	}
	ap, err := netip.ParseAddrPort(hostPort)
	if err != nil || ap.Port() == 0 {
		return "", "", false
	}
	return proto, strconv.Itoa(int(ap.Port())), true
}

func isIP(v string) bool {
	_, err := netip.ParseAddr(v)
	return err == nil
}

func isPort(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == v
}

// ServiceLinkVars returns, sorted, the names of environ's variables that Load
// ignores as Kubernetes service links (see isServiceLink), so that the
// caller can say so once in its log.
func ServiceLinkVars(environ []string) []string {
	var names []string
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if _, known := schema().byEnv[name]; !known && isServiceLink(name, val) && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
