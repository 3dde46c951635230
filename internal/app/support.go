package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/console"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// isPostgres reports whether url names a PostgreSQL database.
func isPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// openStore opens the database named by url (sqlite:PATH or postgres://…).
func openStore(ctx context.Context, url string) (hotdesk.Store, error) {
	switch {
	case isPostgres(url):
		db, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return db, nil
	default:
		db, err := sqlite.Open(ctx, strings.TrimPrefix(url, "sqlite:"))
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		return db, nil
	}
}

// ResetAdminPassword sets a new generated console password for user
// (`hotdesk admin passwd`). It refuses an admin that does not exist unless
// create is set, and never creates a data directory or an SQLite database:
// a mistyped --data (or running it from the wrong directory) is reported
// with the path it looked at, instead of silently making an empty one.
func ResetAdminPassword(ctx context.Context, cfg Config, user string, create bool) (string, error) {
	url := cfg.dbURL()
	if !isPostgres(url) {
		path := strings.TrimPrefix(url, "sqlite:")
		abs, _ := filepath.Abs(path)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			dirAbs, _ := filepath.Abs(cfg.DataDir)
			if _, derr := os.Stat(cfg.DataDir); errors.Is(derr, os.ErrNotExist) {
				return "", fmt.Errorf("no data directory at %s (from --data, HOTDESK_DATA or the default ./data): give the server's --data DIR", dirAbs)
			}
			return "", fmt.Errorf("no database at %s: give the server's --data DIR (or --db URL)", abs)
		} else if err != nil {
			return "", err
		}
	}
	store, err := openStore(ctx, url)
	if err != nil {
		return "", err
	}
	defer store.Close()
	if _, err := store.FindAdmin(ctx, user); hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND && !create {
		var names []string
		if admins, err := store.ListAdmins(ctx); err == nil {
			for _, a := range admins {
				names = append(names, a.Username)
			}
		}
		return "", fmt.Errorf("no console admin %q (admins: %s); add --create to create it", user, strings.Join(names, ", "))
	} else if err != nil && hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		return "", err
	}
	return console.ResetPassword(ctx, store, user)
}

// promptCache loads each language's prompt set once.
type promptCache struct {
	dir  string
	mu   sync.Mutex
	sets map[string]*prompts.Set
}

func newPromptCache(dir string) *promptCache {
	return &promptCache{dir: dir, sets: make(map[string]*prompts.Set)}
}

func (p *promptCache) get(lang string) (*prompts.Set, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.sets[lang]; ok {
		return s, nil
	}
	s, err := prompts.New(lang, p.dir)
	if err != nil {
		return nil, err
	}
	p.sets[lang] = s
	return s, nil
}
