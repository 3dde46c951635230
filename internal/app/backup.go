package app

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/buildinfo"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// A backup is a gzipped tar of the data directory: hotdesk.db is a
// consistent snapshot of the SQLite database taken with VACUUM INTO while
// the server runs, next to the other files of the data dir (admin token,
// prompt overrides, and recordings or voicemail audio when there are any)
// and a BACKUP note naming the build and schema version.
const (
	backupDB   = "hotdesk.db"
	backupNote = "BACKUP"
	// backupsDir in the data dir is never backed up: the packaged service's
	// user may write only there, so scheduled backups can go to it.
	backupsDir = "backups"
)

// ErrPostgresBackup means the database is PostgreSQL, which pg_dump backs up.
var ErrPostgresBackup = errors.New("the database is PostgreSQL: back it up with pg_dump (pg_dump --format=custom --file=FILE 'postgres://…') and restore with pg_restore; copy each node's data dir (admin token, prompts) as files")

// Backup writes a backup of the server's data to dest (a new file), online:
// the server may keep running and writing.
func Backup(ctx context.Context, cfg Config, dest string) (err error) {
	url := cfg.dbURL()
	if isPostgres(url) {
		return ErrPostgresBackup
	}
	dbPath := strings.TrimPrefix(url, "sqlite:")
	if _, err := os.Stat(dbPath); err != nil {
		abs, _ := filepath.Abs(dbPath)
		return fmt.Errorf("no database at %s: give the server's --data DIR (or --db)", abs)
	}
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dest)
		}
	}()
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".hotdesk-backup-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	snap := filepath.Join(tmp, backupDB)
	if err := sqlite.Snapshot(ctx, dbPath, snap); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	version, err := sqlite.Check(ctx, snap)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}

	zw := gzip.NewWriter(out)
	tw := tar.NewWriter(zw)
	now := time.Now().UTC()
	note := fmt.Sprintf("Hotdesk PBX backup\ntaken %s by %s\nschema version %d\nrestore: hotdesk restore --data DIR FILE\n", now.Format(time.RFC3339), buildinfo.Get(), version)
	if err := tw.WriteHeader(&tar.Header{Name: backupNote, Mode: 0o644, Size: int64(len(note)), ModTime: now}); err != nil {
		return err
	}
	if _, err := io.WriteString(tw, note); err != nil {
		return err
	}
	if err := addFile(tw, snap, backupDB); err != nil {
		return err
	}
	// The rest of the data dir, as files (the live database, its WAL and
	// the lock are not copied: the snapshot stands for them).
	dataAbs, _ := filepath.Abs(cfg.DataDir)
	destAbs, _ := filepath.Abs(dest)
	dbAbs, _ := filepath.Abs(dbPath)
	err = filepath.WalkDir(cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(cfg.DataDir, path)
		abs, _ := filepath.Abs(path)
		if rel == "." || d.IsDir() {
			// Earlier backups kept in DATA/backups, and staging dirs.
			if rel == backupsDir || strings.HasPrefix(d.Name(), ".hotdesk-backup-") || strings.HasPrefix(d.Name(), ".restore-") || abs == filepath.Join(dataAbs, filepath.Base(tmp)) {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case !d.Type().IsRegular(), abs == destAbs, rel == lockFileName, rel == backupNote,
			abs == dbAbs, abs == dbAbs+"-wal", abs == dbAbs+"-shm", abs == dbAbs+"-journal":
			return nil
		}
		return addFile(tw, path, filepath.ToSlash(rel))
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return out.Sync()
}

func addFile(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: name, Mode: int64(fi.Mode().Perm()), Size: fi.Size(), ModTime: fi.ModTime()}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	// Copy exactly Size bytes: a file growing meanwhile must not break the tar.
	_, err = io.CopyN(tw, f, fi.Size())
	return err
}

// Restore puts the backup src in place as the data of cfg. It refuses while
// a server uses the data dir (the same lock `hotdesk serve` holds, kept for
// the whole restore so no server starts half-way), and refuses to replace
// an existing database unless force is set. A missing data dir is created.
func Restore(ctx context.Context, cfg Config, src string, force bool) error {
	url := cfg.dbURL()
	if isPostgres(url) {
		return ErrPostgresBackup
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("restore: data dir: %w", err)
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("restore refused: %w", err)
	}
	defer lock.release()
	dbPath := strings.TrimPrefix(url, "sqlite:")
	if _, err := os.Stat(dbPath); err == nil && !force {
		abs, _ := filepath.Abs(dbPath)
		return fmt.Errorf("restore refused: %s already holds a database; restore into a new --data DIR, or add --force to replace it (it is lost)", abs)
	}

	// Unpack into a staging dir inside the data dir, check, then move in.
	stage, err := os.MkdirTemp(cfg.DataDir, ".restore-")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stage)
	zr, err := gzip.NewReader(in)
	if err != nil {
		return fmt.Errorf("restore %s: not a hotdesk backup: %w", src, err)
	}
	tr := tar.NewReader(zr)
	var files []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore %s: %w", src, err)
		}
		name := filepath.FromSlash(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !filepath.IsLocal(name) {
			return fmt.Errorf("restore %s: unexpected entry %q", src, hdr.Name)
		}
		p := filepath.Join(stage, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(hdr.Mode).Perm()|0o600)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		files = append(files, name)
	}
	if _, err := os.Stat(filepath.Join(stage, backupDB)); err != nil {
		return fmt.Errorf("restore %s: not a hotdesk backup (no %s in it)", src, backupDB)
	}
	if _, err := sqlite.Check(ctx, filepath.Join(stage, backupDB)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The old database's WAL would be replayed into the restored file.
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	for _, name := range files {
		if name == backupNote {
			continue
		}
		to := filepath.Join(cfg.DataDir, name)
		if name == backupDB {
			to = dbPath
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(stage, name), to); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}
