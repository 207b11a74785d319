package crypto_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/m9m/auth/adapter/crypto"
)

const (
	oldKey = "old-webhook-key-0123456789abcdef-rotation"
	newKey = "new-webhook-key-fedcba9876543210-rotation"
)

func TestPreviousKeysOpenButNeverSeal(t *testing.T) {
	t.Parallel()
	k1 := newSealer(t, oldKey)
	sealedK1, err := k1.Seal([]byte("whsec-one"))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := crypto.NewSealer(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(sealedK1); err != nil || string(got) != "whsec-one" {
		t.Fatalf("a previous key does not open its value: %q %v", got, err)
	}
	fresh, err := rotated.Seal([]byte("whsec-two"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k1.Open(fresh); !errors.Is(err, crypto.ErrSealed) {
		t.Fatalf("a new value opens with the previous key: %v (it must be sealed with the current one)", err)
	}
	if got, err := newSealer(t, newKey).Open(fresh); err != nil || string(got) != "whsec-two" {
		t.Fatalf("the current key alone does not open a new value: %q %v", got, err)
	}
}

func TestResealMovesOldValuesToTheCurrentKeyOnly(t *testing.T) {
	t.Parallel()
	sealedK1, err := newSealer(t, oldKey).Seal([]byte("whsec-one"))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := crypto.NewSealer(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	resealed, changed, err := rotated.Reseal(sealedK1)
	if err != nil || !changed {
		t.Fatalf("Reseal(old) = changed %v, %v; want changed", changed, err)
	}
	if got, err := newSealer(t, newKey).Open(resealed); err != nil || string(got) != "whsec-one" {
		t.Fatalf("the resealed value does not open with the current key alone: %q %v", got, err)
	}
	if again, changed, err := rotated.Reseal(resealed); err != nil || changed || again != nil {
		t.Fatalf("Reseal(current) = %v, %v, %v; want nothing to do (re-runnable)", again, changed, err)
	}
	stranger, err := newSealer(t, "a-key-nobody-configured-0123456789ab").Seal([]byte("whsec-lost"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = rotated.Reseal(stranger)
	if !errors.Is(err, crypto.ErrSealed) || strings.Contains(err.Error(), "whsec") {
		t.Fatalf("Reseal(unknown key) = %v, want ErrSealed without the secret", err)
	}
	if bytes.Equal(resealed, sealedK1) {
		t.Fatal("resealing returned the old value")
	}
}

func TestShortPreviousKeyIsRefusedWithoutShowingIt(t *testing.T) {
	t.Parallel()
	_, err := crypto.NewSealer(newKey, "short-secret")
	if err == nil || strings.Contains(err.Error(), "short-secret") {
		t.Fatalf("NewSealer with a short previous key = %v, want an error not naming it", err)
	}
}
