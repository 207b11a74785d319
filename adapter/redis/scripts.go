package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// scripts is every Lua script of this package, registered by newScript as
// it is declared, so that LoadScripts can load them all at start.
var scripts []*goredis.Script

// newScript declares a script of this package (goredis.NewScript) and
// registers it for LoadScripts. Declare every script with it, at package
// level.
func newScript(src string) *goredis.Script {
	s := goredis.NewScript(src)
	scripts = append(scripts, s)
	return s
}

// LoadScripts loads every script of this package into Redis (SCRIPT LOAD;
// on a Cluster go-redis sends it to every shard), so that the first call of
// each after start is one EVALSHA instead of two commands (an EVALSHA
// answered NOSCRIPT, then an EVAL carrying the whole source). Call it once
// at start; a failure is not fatal, because nothing depends on it but the
// cost of that first call.
//
// A Redis that forgets the scripts later (a restart, a failover to a
// replica that never ran them, SCRIPT FLUSH) needs nothing from us: every
// call goes through Script.Run, which answers NOSCRIPT with EVAL of the
// source, and EVAL caches the script again. So after a restart each script
// costs one extra command once, and one EVALSHA from then on.
func LoadScripts(ctx context.Context, client goredis.UniversalClient) error {
	for _, s := range scripts {
		if err := s.Load(ctx, client).Err(); err != nil {
			return translate(err)
		}
	}
	return nil
}
