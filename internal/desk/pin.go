package desk

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// pinIterations is deliberately low. A PIN has at most 10^8 values, so no
// affordable hash cost stops an offline attack on a stolen database; online
// guessing is stopped by the lockout (five failures lock for 15 minutes).
// What the hash must do is keep PINs out of the database in clear text and
// cost little CPU: a login benchmark of >1,000 logins/s on 2 cores leaves
// well under 1 ms per verify. 500 PBKDF2-SHA256 rounds measure ~0.13 ms
// (go test -bench CheckPIN ./internal/desk). Hashes carry their iteration
// count, so raising it later keeps old hashes valid.
const pinIterations = 500

const (
	pinScheme  = "pbkdf2-sha256"
	pinSaltLen = 16
	pinKeyLen  = 32
)

// ValidatePIN reports whether pin is 4 to 8 decimal digits.
func ValidatePIN(pin string) error {
	if len(pin) < 4 || len(pin) > 8 {
		return hotdesk.Invalidf("pin", "PIN must be 4 to 8 digits.")
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return hotdesk.Invalidf("pin", "PIN must be digits only.")
		}
	}
	return nil
}

// HashPIN returns a salted, self-describing hash of pin:
// "pbkdf2-sha256$<iterations>$<salt b64>$<key b64>".
func HashPIN(pin string) (string, error) {
	salt := make([]byte, pinSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash pin: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, pin, salt, pinIterations, pinKeyLen)
	if err != nil {
		return "", fmt.Errorf("hash pin: %w", err)
	}
	enc := base64.RawStdEncoding
	return pinScheme + "$" + strconv.Itoa(pinIterations) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// CheckPIN reports whether pin matches hash (made by HashPIN). The comparison
// is constant-time; a malformed or empty hash never matches.
func CheckPIN(hash, pin string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != pinScheme {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, len(want))
	return err == nil && hmac.Equal(got, want)
}

// GeneratePIN returns a uniformly random 6-digit PIN.
func GeneratePIN() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("generate pin: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}
