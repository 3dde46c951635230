// Command load drives hot-desk logins through the REST API of one or more
// Hotdesk PBX nodes and prints logins/s. It creates -users users and twice
// as many hot-desk phones through the first node, then runs -workers
// workers for -duration; worker w owns users w, w+workers, …, and each of
// its logins moves a user to the other of its two phones (a real write:
// the old login ends, the new one starts, two audit rows and events).
// Requests go to the nodes in turn. It exits non-zero when a login failed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	nodes := flag.String("nodes", "http://127.0.0.1:8080", "comma-separated API base URLs")
	token := flag.String("token", "", "admin API token")
	users := flag.Int("users", 200, "users (each with two phones)")
	workers := flag.Int("workers", 32, "concurrent clients")
	duration := flag.Duration("duration", 20*time.Second, "measuring time")
	setup := flag.Bool("setup", true, "create the users and phones first")
	flag.Parse()
	urls := strings.Split(*nodes, ",")
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	call := func(base, method, path, body string) (int, error) {
		req, err := http.NewRequest(method, base+"/api/v1"+path, bytes.NewBufferString(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+*token)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	if *setup {
		for i := range *users {
			ext := fmt.Sprint(3000 + i)
			if code, err := call(urls[0], "POST", "/users", `{"extension":"`+ext+`","name":"Bench `+ext+`","hotdesk":true,"pin":"4321"}`); err != nil || code >= 300 {
				fail("create user %s: %d %v", ext, code, err)
			}
			for j := range 2 {
				id := fmt.Sprintf("BENCH%05d", 2*i+j)
				if code, err := call(urls[0], "POST", "/devices", `{"id":"`+id+`","label":"`+id+`","mode":"hotdesk"}`); err != nil || code >= 300 {
					fail("create device %s: %d %v", id, code, err)
				}
			}
		}
	}
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	stop := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			var mine []time.Duration
			var own []int
			for u := w; u < *users; u += *workers {
				own = append(own, u)
			}
			if len(own) == 0 {
				return
			}
			n := w
			for i := 0; time.Now().Before(stop); i++ {
				u := own[i%len(own)]
				body := fmt.Sprintf(`{"extension":"%d","device":"BENCH%05d"}`, 3000+u, 2*u+(i/len(own))%2)
				start := time.Now()
				code, err := call(urls[n%len(urls)], "POST", "/logins", body)
				n++
				if err != nil || code >= 300 {
					failed.Add(1)
					continue
				}
				mine = append(mine, time.Since(start))
				ok.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(100 * time.Microsecond)
	}
	fmt.Printf("nodes=%d workers=%d logins=%d failed=%d logins/s=%.0f p50=%v p99=%v\n",
		len(urls), *workers, ok.Load(), failed.Load(), float64(ok.Load())/duration.Seconds(), pct(0.5), pct(0.99))
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
	os.Exit(1)
}
