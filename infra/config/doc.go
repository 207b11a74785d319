// Package config loads, overrides and validates the m9m configuration.
//
// The configuration is one typed struct, [Config], built in a fixed order by
// [Load]:
//
//  1. [Default] values;
//  2. an optional YAML file, decoded strictly: an unknown or duplicate key, or a
//     value of the wrong type, is an error naming its full dotted path
//     (for example "security.jwt.secrte: unknown key (line 4)");
//  3. M9M_* environment overrides, one per leaf key: "M9M_" followed by the
//     key's path segments in upper case joined by "_" (security.jwt.secret is
//     M9M_SECURITY_JWT_SECRET). The table is derived from the struct's yaml
//     tags by reflection, so it cannot drift from the struct; an M9M_* name
//     that is not in it is an error. Lists are comma-separated;
//  4. secret files: a key "x_file" beside a key "x" (security.jwt.secret_file,
//     database.url_file, ...) names a file whose content, without its
//     trailing newline, becomes x;
//  5. [Config.Validate], which reports every problem at once.
//
// Durations are plain [time.Duration] fields. In YAML and in the environment
// they are written in Go syntax ("15s", "1m30s", "720h"); a bare number is
// refused because it is ambiguous. Encoding a Config to YAML (see
// [Config.String]) writes them back in the same syntax.
//
// Every error names the key it concerns ("<dotted.key>: <problem>") and never
// contains the value of a secret. This is the only package that reads the
// process environment; everything else receives its own section of Config.
package config
