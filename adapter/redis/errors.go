package redis

import (
	"errors"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/domain"
)

// transientReplies are Redis error replies that mean "not now" (a replica
// loading, a failover, a busy script) rather than "your command is wrong".
var transientReplies = []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY", "NOREPLICAS"}

// translate maps a go-redis error to a domain error. Network failures,
// timeouts, a closed client and transient replies are domain.Unavailable
// (503, fail closed for tokens); other error replies (WRONGTYPE, a script
// bug) are domain.Internal. The cause stays wrapped for logs.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	var reply goredis.Error
	if errors.As(err, &reply) && !errors.Is(err, goredis.Nil) {
		for _, p := range transientReplies {
			if goredis.HasErrorPrefix(err, p) {
				return domain.Unavailable("redis", err)
			}
		}
		return domain.Internal(err)
	}
	return domain.Unavailable("redis", err)
}
