package actuate

import (
	"fmt"
	"strings"
)

// Topic layout under the configured prefix (see docs/mqtt.md).
const (
	topicAvailable = "available"        // retained online | offline (Last Will and clean stop)
	topicReason    = "available/reason" // retained running | stopped
	topicStats     = "stats"
	topicEvents    = "events"
	topicVerdict   = "verdict"
	topicReject    = "reject"
	topicHeatmap   = "heatmap"
	topicStatus    = "status" // retained camera state
	suffixSet      = "set"
	suffixState    = "state"
)

// Availability payloads on <prefix>/available.
const (
	Online  = "online"
	Offline = "offline"
)

// Reasons on <prefix>/available/reason (retained): "running" from connect on,
// "stopped" after a clean stop. "offline" with "running" means the link died
// without a clean stop (crash, kill, power, network): the Last Will.
const (
	ReasonRunning = "running"
	ReasonStopped = "stopped"
)

// Topics builds topic names under one prefix.
type Topics struct{ Prefix string }

func (t Topics) Available() string            { return t.Prefix + "/" + topicAvailable }
func (t Topics) AvailableReason() string      { return t.Prefix + "/" + topicReason }
func (t Topics) Stats() string                { return t.Prefix + "/" + topicStats }
func (t Topics) Events() string               { return t.Prefix + "/" + topicEvents }
func (t Topics) Verdict(camera string) string { return t.Prefix + "/" + camera + "/" + topicVerdict }
func (t Topics) Reject(camera string) string  { return t.Prefix + "/" + camera + "/" + topicReject }
func (t Topics) Heatmap(camera string) string { return t.Prefix + "/" + camera + "/" + topicHeatmap }
func (t Topics) Status(camera string) string  { return t.Prefix + "/" + camera + "/" + topicStatus }

// Set is the command topic of a camera setting.
func (t Topics) Set(camera, setting string) string {
	return t.Prefix + "/" + camera + "/" + setting + "/" + suffixSet
}

// State is the retained state topic of a camera setting.
func (t Topics) State(camera, setting string) string {
	return t.Prefix + "/" + camera + "/" + setting + "/" + suffixState
}

// setFilter subscribes to every camera's command topics.
func (t Topics) setFilter() string { return t.Prefix + "/+/+/" + suffixSet }

// parseSet splits a command topic into camera and setting.
func (t Topics) parseSet(topic string) (camera, setting string, ok bool) {
	rest, found := strings.CutPrefix(topic, t.Prefix+"/")
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[2] != suffixSet {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// CheckPrefix validates a topic prefix: one or more levels without
// wildcards, no leading or trailing slash.
func CheckPrefix(p string) error {
	if p == "" {
		return fmt.Errorf("mqtt.prefix is empty: set it, e.g. \"samlad\" or \"plant1/line3\"")
	}
	if strings.ContainsAny(p, "+#\x00") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") || strings.HasPrefix(p, "$") {
		return fmt.Errorf("mqtt.prefix %q: no wildcards (+ #), no leading '$', no empty levels", p)
	}
	return nil
}

// ValidCamera reports whether name is usable as a camera topic level
// ([a-z0-9_-], 1 to 64 characters, as in config.Camera.Name).
func ValidCamera(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// ValidPartID reports whether id is an acceptable part id: 1 to 64 of
// letters, digits and - _ . : / #. That covers serials and barcodes while
// keeping ';' (the plain reject separator), spaces and control bytes out.
func ValidPartID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/#", r)) {
			return false
		}
	}
	return true
}
