package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// Issue 17's measurements. Run:
//
//	go test -run '^$' -bench 'Desks2000|Import2000' -benchtime 20x ./internal/console/

// BenchmarkDesks2000 renders the desks page (the whole page, first page
// of 100) and the live table fragment for an office of 2,000 hot desks,
// all registered, with 1,500 people logged in, on the SQLite store.
func BenchmarkDesks2000(b *testing.B) {
	hs := newHarness(b)
	hs.manyDesks(2000, 1500)
	for i := range 2000 {
		id := fmt.Sprintf("HD%05d", i+1)
		hs.regs.Set(id, hotdesk.Binding{Device: id, Contact: "sip:" + id + "@127.0.0.1:5060", Source: "127.0.0.1:5060", UserAgent: "snom D785/10.1"})
	}
	c := hs.signIn()
	for _, path := range []string{"/", "/desks/table", "/desks/table?q=person+14", "/?offset=1900"} {
		b.Run(strings.NewReplacer("/", "_", "?", "_").Replace(path), func(b *testing.B) {
			for b.Loop() {
				if w := c.get(path); w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// BenchmarkImport2000 imports 2,000 new users with PINs from CSV (dry run
// and applied) on a fresh SQLite store each time.
func BenchmarkImport2000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("extension,name,email,hotdesk,pin,blf\n")
	for i := range 2000 {
		fmt.Fprintf(&sb, "%d,Person %d,p%d@example.com,yes,%04d,%d\n", 10000+i, i, i, i%10000, 10000+(i+1)%2000)
	}
	file := sb.String()
	for _, apply := range []bool{false, true} {
		b.Run(map[bool]string{false: "dry-run", true: "apply"}[apply], func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := admin.New(admin.Options{Store: MustOpenStore(b)})
				b.StartTimer()
				rep, err := s.Import(context.Background(), "bench", admin.ImportUsers, strings.NewReader(file), apply)
				if err != nil || !rep.OK() || rep.Created != 2000 || rep.Applied != apply {
					b.Fatalf("import: %v %+v", err, rep.Errors)
				}
			}
		})
	}
}
