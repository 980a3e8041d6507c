// Package atomicfile replaces a file so that, after a crash or a power cut,
// its path holds either the old content or the whole new one, never a part:
// the bank, the sequence file and the outgoing store all write through it.
//
// It lives under config because config is the leaf every other package may
// import (cmd -> daemon -> {capture, infer, actuate} -> config).
package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes what fill produces to a hidden temporary file beside path
// (".<base>.<random>.tmp"), fsyncs it, renames it over path and fsyncs the
// directory, so that the new name is durable too. The file gets mode perm.
// On any error path is left as it was and the temporary is removed.
// fill's writes are buffered.
func Write(path string, perm fs.FileMode, fill func(io.Writer) error) error {
	return write(path, perm, true, func(f *os.File) error {
		w := bufio.NewWriterSize(f, 1<<16)
		if err := fill(w); err != nil {
			return err
		}
		return w.Flush()
	})
}

// WriteFile is Write of data, unbuffered.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return write(path, perm, true, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteFileNoSync is WriteFile without either fsync: a killed process
// still never leaves a part of a file at path, but a power cut may lose
// the write.
func WriteFileNoSync(path string, data []byte, perm fs.FileMode) error {
	return write(path, perm, false, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

func write(path string, perm fs.FileMode, sync bool, fill func(*os.File) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	err = tmp.Chmod(perm)
	if err == nil {
		err = fill(tmp)
	}
	if err == nil && sync {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	return syncDir(dir)
}

// syncDir is SyncDir; a test replaces it to see that it is called.
var syncDir = SyncDir

// SyncDir fsyncs a directory, making the names created, renamed or removed
// in it durable. A file system that cannot sync a directory is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
