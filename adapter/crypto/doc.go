// Package crypto holds m9m's cryptographic adapters: password hashing
// (argon2id, with bcrypt accepted for migration) behind port.PasswordHasher,
// and generation of API key secrets. It draws all randomness from
// crypto/rand, never logs or returns secrets in errors, and bounds the cost
// an attacker can make it spend (concurrency cap, caps on parameters read
// from stored hashes).
package crypto
