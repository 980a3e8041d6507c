package actuate

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/config"
)

// haSchema is Home Assistant's MQTT discovery schema for the components
// samlad announces (home-assistant.io/integrations/<component>.mqtt): the
// keys each requires and the keys it accepts. one lists keys of which
// exactly one must be set.
var haSchema = map[string]struct {
	required, allowed, one []string
}{
	"binary_sensor": {required: []string{"state_topic"}, allowed: []string{"payload_on", "payload_off", "device_class", "value_template", "json_attributes_topic", "json_attributes_template"}},
	"sensor":        {required: []string{"state_topic"}, allowed: []string{"device_class", "state_class", "unit_of_measurement", "value_template", "payload_reset"}},
	"image":         {one: []string{"image_topic", "url_topic"}, allowed: []string{"content_type", "image_encoding"}},
	"button":        {required: []string{"command_topic"}, allowed: []string{"payload_press", "retain", "device_class"}},
	"number":        {required: []string{"command_topic"}, allowed: []string{"state_topic", "value_template", "min", "max", "step", "mode", "retain", "unit_of_measurement"}},
	"switch":        {required: []string{"command_topic"}, allowed: []string{"state_topic", "payload_on", "payload_off", "state_on", "state_off", "value_template", "retain"}},
}

// Keys every entity accepts (the MQTT entity common schema).
var haCommon = []string{"name", "unique_id", "object_id", "availability_topic", "payload_available", "payload_not_available", "device", "qos", "icon", "entity_category"}

var discoveryTopic = regexp.MustCompile(`^homeassistant/([a-z_]+)/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)/config$`)

func TestDiscoveryPayloadsFollowTheSchema(t *testing.T) {
	tp := Topics{Prefix: testPrefix}
	cams := []string{"cam1", "line-2"}
	msgs, err := Discovery("homeassistant", "samlad.line1", tp, cams)
	if err != nil {
		t.Fatal(err)
	}
	// What samlad publishes (each topic with a sample payload) and what it
	// accepts on its command topics.
	sample := sampleVerdict(7, Fail)
	verdictJSON, _ := json.Marshal(sample)
	statsJSON, _ := json.Marshal(Stats{Cameras: []CameraStats{{Camera: "cam1", FPS: 2}}})
	published := map[string][]byte{tp.Available(): []byte(Online), tp.Stats(): statsJSON}
	for _, c := range cams {
		published[tp.Verdict(c)] = verdictJSON
		published[tp.Heatmap(c)] = []byte("\xff\xd8jpeg")
		published[tp.State(c, SetThreshold)] = []byte("auto")
		published[tp.State(c, SetEnabled)] = []byte("true")
	}
	cmds := Commands{Cameras: cams}

	components := map[string]int{}
	ids := map[string]bool{}
	for _, m := range msgs {
		sub := discoveryTopic.FindStringSubmatch(m.Topic)
		if sub == nil {
			t.Errorf("discovery topic %q is not homeassistant/<component>/<node_id>/<object_id>/config", m.Topic)
			continue
		}
		comp := sub[1]
		schema, ok := haSchema[comp]
		if !ok {
			t.Errorf("%s: component %q not in the schema", m.Topic, comp)
			continue
		}
		components[comp]++
		var cfg map[string]any
		if err := json.Unmarshal(m.Payload, &cfg); err != nil {
			t.Fatalf("%s: payload is not JSON: %v", m.Topic, err)
		}
		for _, k := range append([]string{"unique_id", "name", "availability_topic", "device"}, schema.required...) {
			if _, ok := cfg[k]; !ok {
				t.Errorf("%s: required key %s missing", m.Topic, k)
			}
		}
		if len(schema.one) > 0 {
			n := 0
			for _, k := range schema.one {
				if _, ok := cfg[k]; ok {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: want exactly one of %v", m.Topic, schema.one)
			}
		}
		for k := range cfg {
			if !slices.Contains(haCommon, k) && !slices.Contains(schema.allowed, k) && !slices.Contains(schema.required, k) && !slices.Contains(schema.one, k) {
				t.Errorf("%s: key %q is not in the %s schema", m.Topic, k, comp)
			}
		}
		if cfg["availability_topic"] != tp.Available() || cfg["payload_available"] != Online || cfg["payload_not_available"] != Offline {
			t.Errorf("%s: availability %v %v %v, want samlad's %s online/offline", m.Topic, cfg["availability_topic"], cfg["payload_available"], cfg["payload_not_available"], tp.Available())
		}
		dev, _ := cfg["device"].(map[string]any)
		if idents, _ := dev["identifiers"].([]any); len(idents) == 0 || dev["name"] == nil {
			t.Errorf("%s: device block %v lacks identifiers or name", m.Topic, dev)
		}
		uid, _ := cfg["unique_id"].(string)
		if uid == "" || ids[uid] {
			t.Errorf("%s: unique_id %q empty or used twice", m.Topic, uid)
		}
		ids[uid] = true

		// State and image topics are topics samlad publishes; templates read
		// fields its payloads have.
		for _, k := range []string{"state_topic", "image_topic", "json_attributes_topic"} {
			topic, ok := cfg[k].(string)
			if !ok {
				continue
			}
			body, known := published[topic]
			if !known {
				t.Errorf("%s: %s = %q is not a topic samlad publishes", m.Topic, k, topic)
				continue
			}
			var doc map[string]any
			if json.Unmarshal(body, &doc) != nil {
				continue
			}
			for _, tmpl := range []string{"value_template", "json_attributes_template"} {
				s, _ := cfg[tmpl].(string)
				for _, f := range regexp.MustCompile(`value_json\.([a-z_]+)`).FindAllStringSubmatch(s, -1) {
					if _, ok := doc[f[1]]; !ok {
						t.Errorf("%s: %s reads value_json.%s, which %s does not carry: %s", m.Topic, tmpl, f[1], topic, body)
					}
				}
			}
		}
		// Command topics are samlad's /set topics, and every payload the
		// entity sends is a command samlad accepts.
		if topic, ok := cfg["command_topic"].(string); ok {
			cam, setting, ok := tp.parseSet(topic)
			if !ok {
				t.Errorf("%s: command_topic %q is not a samlad /set topic", m.Topic, topic)
				continue
			}
			for _, k := range []string{"payload_press", "payload_on", "payload_off"} {
				if p, ok := cfg[k].(string); ok {
					if _, err := cmds.ParseCommand(cam, setting, []byte(p)); err != nil {
						t.Errorf("%s: %s %q is refused by samlad: %v", m.Topic, k, p, err)
					}
				}
			}
			if comp == "number" {
				for _, k := range []string{"min", "max"} {
					v, _ := cfg[k].(float64)
					if _, err := cmds.ParseCommand(cam, setting, []byte(strings.TrimSpace(jsonNumber(v)))); err != nil {
						t.Errorf("%s: %s = %v is refused by samlad: %v", m.Topic, k, v, err)
					}
				}
			}
			if r, ok := cfg["retain"].(bool); !ok || r {
				t.Errorf("%s: commands must not be retained (samlad ignores retained /set); retain = %v", m.Topic, cfg["retain"])
			}
		}
	}
	want := map[string]int{"binary_sensor": 2, "sensor": 6, "image": 2, "button": 2, "number": 2, "switch": 2}
	for comp, n := range want {
		if components[comp] != n {
			t.Errorf("%d %s entities, want %d (one per camera each: verdict; score, rate, latency; heatmap; trigger; threshold; enable)", components[comp], comp, n)
		}
	}

	// unique_id is stable: the same appliance announces the same ids again,
	// another appliance (client id) on the same broker other ones.
	again, _ := Discovery("homeassistant", "samlad.line1", tp, cams)
	other, _ := Discovery("homeassistant", "samlad-line2", tp, cams)
	for i := range msgs {
		if string(again[i].Payload) != string(msgs[i].Payload) || again[i].Topic != msgs[i].Topic {
			t.Errorf("discovery differs between two calls: %s", msgs[i].Topic)
		}
		var a, b map[string]any
		json.Unmarshal(msgs[i].Payload, &a)
		json.Unmarshal(other[i].Payload, &b)
		if a["unique_id"] == b["unique_id"] || msgs[i].Topic == other[i].Topic {
			t.Errorf("two appliances share unique_id %v or topic %s", a["unique_id"], msgs[i].Topic)
		}
	}
	if _, err := Discovery("home/#", "x", tp, cams); err == nil {
		t.Error("a discovery prefix with a wildcard was accepted")
	}
}

func jsonNumber(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Against mosquitto: with discovery on, the config messages are on the
// broker, retained, for a Home Assistant that subscribes later; with it off
// (the default) there are none.
func TestDiscoveryRetainedOnBroker(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	cfg := testConfig(t, b)
	cfg.Discovery.Enabled = true
	c := dial(t, cfg, config.DefaultActuate(), Commands{Cameras: []string{"cam1"}})
	waitConnected(t, c)
	want, err := Discovery("homeassistant", cfg.ClientID, Topics{Prefix: testPrefix}, []string{"cam1"})
	if err != nil {
		t.Fatal(err)
	}
	// Once a first subscriber has seen them all, they are on the broker; a
	// Home Assistant subscribing after that gets them only if retained.
	b.Record(t, "homeassistant/#", mqtttest.RecorderOptions{}).Wait("homeassistant/#", len(want), 30*time.Second)
	rec := b.Record(t, "homeassistant/#", mqtttest.RecorderOptions{})
	got := rec.Wait("homeassistant/#", len(want), 30*time.Second)
	byTopic := map[string]mqtttest.Message{}
	for _, m := range got {
		byTopic[m.Topic] = m
	}
	for _, w := range want {
		m, ok := byTopic[w.Topic]
		switch {
		case !ok:
			t.Errorf("no config message on %s", w.Topic)
		case !m.Retained:
			t.Errorf("%s: not retained", w.Topic)
		case string(m.Payload) != string(w.Payload):
			t.Errorf("%s: payload %s, want %s", w.Topic, m.Payload, w.Payload)
		}
	}
	avail := b.Record(t, testPrefix+"/available", mqtttest.RecorderOptions{})
	if m := avail.Wait(testPrefix+"/available", 1, 30*time.Second)[0]; string(m.Payload) != Online || !m.Retained {
		t.Errorf("availability %q retained=%v, want retained online", m.Payload, m.Retained)
	}

	// Off by default: another appliance on its own prefix announces nothing.
	// Its clean stop is the barrier: retained messages it had published
	// would be on the broker before Close returns.
	cfg2 := testConfig(t, b)
	cfg2.Prefix = "plant/line2"
	c2 := dial(t, cfg2, config.DefaultActuate(), Commands{Cameras: []string{"cam9"}})
	waitConnected(t, c2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	late := b.Record(t, "homeassistant/#", mqtttest.RecorderOptions{})
	late.Wait("homeassistant/#", len(want), 30*time.Second)
	for _, m := range late.Messages("homeassistant/#") {
		if strings.Contains(m.Topic, "cam9") {
			t.Errorf("discovery published while off: %s", m.Topic)
		}
	}
}
