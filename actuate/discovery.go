package actuate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Home Assistant MQTT discovery (docs/mqtt.md): each camera is a device
// whose entities read the topics samlad publishes and write its command
// topics. The config messages are retained and published at every
// connection, like the other retained states.

// DiscoveryMessage is one retained config message.
type DiscoveryMessage struct {
	Topic   string
	Payload []byte
}

// Payloads the entities send, each accepted by ParseCommand.
const (
	haTriggerPress = "{}" // a trigger without a part id
	haSwitchOn     = "true"
	haSwitchOff    = "false"
)

// Discovery returns the config messages of every camera's entities under
// the discovery prefix. node is the appliance's MQTT client id (fixed per
// appliance), which keeps unique_id stable across restarts and distinct
// between appliances on one broker.
func Discovery(discoveryPrefix, node string, t Topics, cameras []string) ([]DiscoveryMessage, error) {
	if err := CheckPrefix(discoveryPrefix); err != nil {
		return nil, fmt.Errorf("mqtt.discovery.prefix: %w", err)
	}
	nodeID := haID(node)
	var out []DiscoveryMessage
	for _, cam := range cameras {
		dev := map[string]any{
			"identifiers":  []string{"samlad_" + nodeID + "_" + cam},
			"name":         cam + " (samlad)",
			"manufacturer": "samlad",
			"model":        "SAM-LAD inline inspection",
		}
		add := func(component, object string, cfg map[string]any) {
			cfg["unique_id"] = "samlad_" + nodeID + "_" + cam + "_" + object
			cfg["object_id"] = "samlad_" + cam + "_" + object
			cfg["availability_topic"] = t.Available()
			cfg["payload_available"] = Online
			cfg["payload_not_available"] = Offline
			cfg["device"] = dev
			body, _ := json.Marshal(cfg) // maps of strings, numbers and slices: never fails
			out = append(out, DiscoveryMessage{
				Topic:   fmt.Sprintf("%s/%s/%s/%s_%s/config", discoveryPrefix, component, nodeID, cam, object),
				Payload: body,
			})
		}
		verdict := t.Verdict(cam)
		add("binary_sensor", "verdict", map[string]any{
			"name":         "Defect",
			"device_class": "problem",
			"state_topic":  verdict,
			// fail and error (a part not judged good) are a problem.
			"value_template": "{{ 'OFF' if value_json.verdict == 'pass' else 'ON' }}",
			// The verdict's fields (seq, part_id, reason, findings, ...)
			// become the entity's attributes.
			"json_attributes_topic": verdict,
		})
		add("sensor", "score", map[string]any{
			"name":        "Score",
			"state_topic": verdict,
			"state_class": "measurement",
			// An error verdict has no score: null renders None, Home
			// Assistant's payload_reset, and the state becomes unknown.
			"value_template": "{{ value_json.score }}",
		})
		add("sensor", "rate", map[string]any{
			"name":                "Rate",
			"state_topic":         t.Stats(),
			"state_class":         "measurement",
			"unit_of_measurement": "fps",
			"value_template": "{% for c in value_json.cameras if c.camera == '" + cam +
				"' %}{{ c.fps }}{% else %}None{% endfor %}",
		})
		add("sensor", "latency", map[string]any{
			"name":                "Latency",
			"state_topic":         verdict,
			"state_class":         "measurement",
			"device_class":        "duration",
			"unit_of_measurement": "ms",
			"value_template":      "{{ value_json.latency_ms }}",
		})
		add("image", "heatmap", map[string]any{
			"name":         "Heatmap",
			"image_topic":  t.Heatmap(cam),
			"content_type": "image/jpeg",
		})
		add("button", "trigger", map[string]any{
			"name":          "Trigger",
			"command_topic": t.Set(cam, SetTrigger),
			"payload_press": haTriggerPress,
			"retain":        false,
		})
		add("number", "threshold", map[string]any{
			"name":          "Threshold",
			"command_topic": t.Set(cam, SetThreshold),
			"state_topic":   t.State(cam, SetThreshold),
			// "auto" (the bank's calibrated threshold) has no number: unknown.
			"value_template": "{{ 'None' if value == 'auto' else value }}",
			"min":            0.001,
			"max":            1000,
			"step":           0.001,
			"mode":           "box",
			"retain":         false,
		})
		add("switch", "enabled", map[string]any{
			"name":          "Enabled",
			"command_topic": t.Set(cam, SetEnabled),
			"state_topic":   t.State(cam, SetEnabled),
			"payload_on":    haSwitchOn,
			"payload_off":   haSwitchOff,
			"state_on":      haSwitchOn,
			"state_off":     haSwitchOff,
			"retain":        false,
		})
	}
	return out, nil
}

// haID makes s usable as a discovery node id and in unique ids: Home
// Assistant allows [a-zA-Z0-9_-] there.
func haID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "samlad"
	}
	return b.String()
}
