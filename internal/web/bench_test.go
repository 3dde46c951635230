package web

import (
	"strconv"
	"testing"
)

// BenchmarkAPILogin measures POST /api/v1/logins over loopback HTTP on the
// SQLite store (":memory:" is a temporary WAL file with synchronous=OFF):
// each iteration logs one of 50 users in on one of 10 desks, so most
// logins also roam or replace.
func BenchmarkAPILogin(b *testing.B) {
	e := MustEnv(b)
	for i := range 50 {
		e.MustUser(strconv.Itoa(300 + i))
	}
	desks := make([]string, 10)
	for i := range desks {
		desks[i] = e.MustDesk()
	}
	for i := 0; b.Loop(); i++ {
		body := `{"extension":"` + strconv.Itoa(300+i%50) + `","device":"` + desks[i%len(desks)] + `"}`
		if r := e.do("POST", "/api/v1/logins", body); r.Status != 201 {
			b.Fatalf("status %d: %s", r.Status, r.Body)
		}
	}
}

// BenchmarkAPIListUsers measures GET /api/v1/users with 200 users.
func BenchmarkAPIListUsers(b *testing.B) {
	e := MustEnv(b)
	for i := range 200 {
		e.MustUser(strconv.Itoa(1000 + i))
	}
	for b.Loop() {
		if r := e.do("GET", "/api/v1/users?limit=200", ""); r.Status != 200 {
			b.Fatalf("status %d", r.Status)
		}
	}
}
