package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CheckFiles loads the config file at path like Load, then checks that every
// file and device it refers to is there: each camera's bank, folder, video
// file or V4L2 device node, the ONNX model manifests and runtime library (with
// the onnx backend), the MQTT CA, client certificate and key, and the
// password file. Each missing one is an Error naming its key and line. Load
// does not do this, so that a config can be written before its files exist;
// `samlad config check` does.
func CheckFiles(path string) (Config, error) {
	cfg, err := Load(path)
	if err != nil {
		return cfg, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config %s: %w", path, err)
	}
	errs := references(cfg)
	if len(errs) == 0 {
		return cfg, nil
	}
	return cfg, locate(errs, path, keyLines(string(data)))
}

// references checks the files and devices named in c (paths already
// resolved against the config file's directory).
func references(c Config) []*Error {
	var errs []*Error
	check := func(key, p string, want fileKind, what string) {
		if p == "" {
			return
		}
		if msg := checkPath(p, want); msg != "" {
			errs = append(errs, &Error{Key: key, Value: tomlValue(p), Msg: msg + "; " + what})
		}
	}
	for i, cam := range c.Cameras {
		k := fmt.Sprintf("camera[%d].", i)
		check(k+"bank", cam.Bank, regularFile, "make it with `samlad enroll --good DIR --out FILE.bank` or fix the path")
		switch cam.Source {
		case "folder":
			check(k+"folder", cam.Folder, directory, "create it or fix the path")
		case "video":
			if !strings.Contains(cam.URL, "://") {
				check(k+"url", cam.URL, regularFile, "give an existing video file or an rtsp:// URL")
			}
		case "v4l2":
			check(k+"device", v4l2Node(cam.Device), device, "plug the camera in, or list the nodes with `v4l2-ctl --list-devices`")
		}
	}
	if c.Pipeline.Backend == "onnx" {
		m := c.Models
		for _, s := range []struct{ key, name string }{
			{"models.features", m.Features}, {"models.upsampler", m.Upsampler},
			{"models.sam_encoder", m.SAMEncoder}, {"models.sam_decoder", m.SAMDecoder},
		} {
			p := s.name
			if p != "" && !filepath.IsAbs(p) {
				p = filepath.Join(m.Dir, p)
			}
			check(s.key, p, regularFile, "a relative manifest is read from models.dir = "+tomlValue(m.Dir)+"; see docs/models.md")
		}
		check("runtime.library", c.Runtime.Library, regularFile, "run `make deps` to unpack ONNX Runtime, or give the path of libonnxruntime.so")
	}
	t := c.MQTT.TLS
	check("mqtt.tls.ca_file", t.CAFile, regularFile, "give the PEM file of the CA that signed the broker's certificate")
	check("mqtt.tls.cert_file", t.CertFile, regularFile, "give the PEM client certificate")
	check("mqtt.tls.key_file", t.KeyFile, regularFile, "give the PEM client key")
	check("mqtt.password_file", c.MQTT.PasswordFile, regularFile, "write the password into it (mode 0600) or fix the path")
	return errs
}

type fileKind int

const (
	regularFile fileKind = iota
	directory
	device
)

// checkPath returns "" when p exists and is of the wanted kind, else what is
// wrong with it.
func checkPath(p string, want fileKind) string {
	info, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case err != nil:
		return fmt.Sprintf("cannot be read: %v", err)
	case want == regularFile && info.IsDir():
		return "is a folder, not a file"
	case want == directory && !info.IsDir():
		return "is not a folder"
	case want == device && info.Mode()&fs.ModeDevice == 0:
		return "is not a device node"
	}
	return ""
}

// v4l2Node maps a V4L2 device index ("0") to its node (/dev/video0).
func v4l2Node(dev string) string {
	if dev == "" {
		return ""
	}
	for _, r := range dev {
		if r < '0' || r > '9' {
			return dev
		}
	}
	return "/dev/video" + dev
}
