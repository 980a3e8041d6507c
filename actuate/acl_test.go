package actuate

import (
	"os"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/config"
)

// readmeACL returns the ACL block of docs/mqtt.md's "Plant ACL example".
func readmeACL(t *testing.T) string {
	b, err := os.ReadFile("../docs/mqtt.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "### Plant ACL example")
	if !ok {
		t.Fatal("docs/mqtt.md has no \"### Plant ACL example\" section")
	}
	_, block, _ := strings.Cut(sec, "```\n")
	block, _, _ = strings.Cut(block, "```")
	if !strings.Contains(block, "user plc") {
		t.Fatalf("docs/mqtt.md ACL block not found:\n%s", block)
	}
	return block
}

// TestPlantACL runs the README's ACL in mosquitto: the PLC reads rejects
// and nothing else, only the operator's commands reach the appliance.
func TestPlantACL(t *testing.T) {
	users := map[string]string{"samlad": "pw-app", "plc": "pw-plc", "operator": "pw-op", "monitor": "pw-mon"}
	b := mqtttest.Start(t, mqtttest.Options{Users: users, ACL: readmeACL(t)})
	plc := b.Record(t, testPrefix+"/#", mqtttest.RecorderOptions{Username: "plc", Password: "pw-plc"})
	monitor := b.Record(t, testPrefix+"/#", mqtttest.RecorderOptions{Username: "monitor", Password: "pw-mon"})

	t.Setenv("SAMLAD_TEST_APP_PW", "pw-app")
	cfg := testConfig(t, b)
	cfg.Username, cfg.PasswordEnv = "samlad", "SAMLAD_TEST_APP_PW"
	h := &recordingHandler{}
	c := dial(t, cfg, config.DefaultActuate(), Commands{Handler: h, Cameras: []string{"cam1"}})
	waitConnected(t, c)

	if err := c.PublishVerdict(sampleVerdict(1, Fail)); err != nil {
		t.Fatal(err)
	}
	monitor.Wait(testPrefix+"/cam1/verdict", 1, 5*time.Second)
	plc.Wait(testPrefix+"/cam1/reject", 1, 5*time.Second)

	for _, who := range []struct{ user, pw, value string }{{"plc", "pw-plc", "0.11"}, {"monitor", "pw-mon", "0.22"}, {"operator", "pw-op", "0.33"}} {
		cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID("acl-" + who.user).SetUsername(who.user).SetPassword(who.pw))
		if tok := cl.Connect(); tok.Wait() && tok.Error() != nil {
			t.Fatalf("%s: %v", who.user, tok.Error())
		}
		cl.Publish(testPrefix+"/cam1/threshold/set", 1, false, who.value).Wait()
		cl.Disconnect(100)
	}
	state := monitor.Wait(testPrefix+"/cam1/threshold/state", 1, 5*time.Second)
	if got := string(state[0].Payload); got != "0.33" {
		t.Errorf("threshold state = %s, want the operator's 0.33", got)
	}
	time.Sleep(200 * time.Millisecond) // let any denied command arrive, were it not denied
	if cmds := h.commands(); len(cmds) != 1 || cmds[0].Threshold != 0.33 {
		t.Errorf("commands reaching the appliance: %+v, want only the operator's", cmds)
	}
	for _, m := range plc.Messages("") {
		if !mqtttest.Match(testPrefix+"/+/reject", m.Topic) {
			t.Errorf("the PLC received %s", m.Topic)
		}
	}
	if len(monitor.Messages(testPrefix+"/available")) == 0 || len(monitor.Messages(testPrefix+"/cam1/reject")) == 0 {
		t.Errorf("the monitor misses availability or rejects:\n%s", mqtttest.Format(monitor.Messages("")))
	}
}
