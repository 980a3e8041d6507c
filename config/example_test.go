package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const examplePath = "../samlad.example.toml"

func TestExampleParsesAndValidates(t *testing.T) {
	cfg, err := Load(examplePath)
	if err != nil {
		t.Fatalf("the example config does not load:\n%v", err)
	}
	if w := Warnings(cfg); len(w) != 0 {
		t.Errorf("the example config has warnings: %v", w)
	}
	if !cfg.MQTT.TLS.Enabled || !strings.HasPrefix(cfg.MQTT.Broker, "ssl://") ||
		cfg.MQTT.TLS.CAFile == "" || cfg.MQTT.TLS.CertFile == "" || cfg.MQTT.TLS.KeyFile == "" {
		t.Errorf("the example must show MQTT over TLS with CA, certificate and key: %+v", cfg.MQTT)
	}
	if len(cfg.Cameras) != 1 || cfg.Cameras[0].Source != "folder" {
		t.Errorf("the example's active camera should be one folder camera: %+v", cfg.Cameras)
	}
	// The example shows the defaults of the sections that are not specific to
	// one installation, so that copying it changes nothing by accident.
	for _, c := range []struct {
		section   string
		got, want any
	}{
		{"pipeline", cfg.Pipeline, DefaultPipeline()},
		{"actuate", cfg.Actuate, DefaultActuate()},
		{"daemon", cfg.Daemon, DefaultDaemon()},
		{"archive", cfg.Archive, DefaultArchive()},
		{"log", cfg.Log, DefaultLog()},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("example [%s] differs from the defaults:\n got %+v\nwant %+v", c.section, c.got, c.want)
		}
	}
	src, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^# pipeline = "aravissrc .*appsink"$`).Match(src) {
		t.Error("the example lacks the commented GStreamer aravissrc camera")
	}
}

// TestExampleDocumentsEverySchemaKey keeps the example complete as the schema
// grows: every key must appear in its section, set or commented out.
func TestExampleDocumentsEverySchemaKey(t *testing.T) {
	src, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	header := regexp.MustCompile(`^\[\[?\s*([a-z_.]+)\s*\]\]?`)
	assign := regexp.MustCompile(`^([a-z][a-z_0-9]*)\s*=`)
	documented := map[string]bool{}
	section := ""
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#"))
		if m := header.FindStringSubmatch(line); m != nil {
			section = m[1]
		} else if m := assign.FindStringSubmatch(line); m != nil && section != "" {
			documented[section+"."+m[1]] = true
		}
	}
	schema := map[string]bool{}
	schemaKeys(reflect.TypeFor[Config](), "", schema)
	for k := range schema {
		if !documented[k] {
			t.Errorf("samlad.example.toml does not document %s", k)
		}
	}
	for k := range documented {
		if !schema[k] {
			t.Errorf("samlad.example.toml shows %s, which is not in the schema", k)
		}
	}
}

// schemaKeys collects the leaf key paths of struct type t; array-of-table
// elements share their table's path ("camera.name").
func schemaKeys(t reflect.Type, prefix string, out map[string]bool) {
	for name, f := range tomlFields(t) {
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(textUnmarshalerType) {
			schemaKeys(ft, joinKey(prefix, name), out)
			continue
		}
		out[joinKey(prefix, name)] = true
	}
}

// TestEffectiveConfigRoundTrips checks that what `samlad config check` prints
// is itself a valid config equal to the one it describes.
func TestEffectiveConfigRoundTrips(t *testing.T) {
	cfg, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(cfg); err != nil {
		t.Fatal(err)
	}
	again, err := Parse([]byte(b.String()), "effective.toml")
	if err != nil {
		t.Fatalf("printed config does not parse:\n%v\n%s", err, b.String())
	}
	if !reflect.DeepEqual(again, cfg) {
		t.Errorf("round trip changed the config:\n got %+v\nwant %+v", again, cfg)
	}
}
