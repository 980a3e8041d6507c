package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/config"
)

// RefuseTrigger answers a trigger actuate could not hand on (malformed,
// oversize, command queue full) with an error verdict that rejects, in the
// camera's sequence. It implements actuate.TriggerRefuser.
func (d *Daemon) RefuseTrigger(cmd actuate.Command, reason string) bool {
	d.mu.Lock()
	c, ok := d.cameras[cmd.Camera]
	d.mu.Unlock()
	if !ok {
		return false
	}
	c.refuse(cmd.PartID, reason, cmd.Delivery)
	return true
}

// HandleCommand applies one operator command that actuate has parsed and
// validated (recipe and enrol paths are already confined to [daemon]
// bank_dir and enroll_dir). The returned state is published retained; an
// error is published as an event and changes nothing.
func (d *Daemon) HandleCommand(ctx context.Context, cmd actuate.Command) (string, error) {
	d.mu.Lock()
	c, ok := d.cameras[cmd.Camera]
	d.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("camera %q is not running", cmd.Camera)
	}
	switch cmd.Setting {
	case actuate.SetEnabled:
		c.enabled.Store(cmd.Enabled)
		if cmd.Enabled {
			if err := c.openSource(); err != nil {
				c.enabled.Store(false)
				return "", err
			}
		} else {
			c.closeSource()
		}
		return strconv.FormatBool(cmd.Enabled), nil
	case actuate.SetThreshold:
		c.setThreshold(cmd.Threshold)
		return thresholdState(cmd.Threshold), nil
	case actuate.SetRecipe:
		recipe := strings.TrimSuffix(filepath.Base(cmd.Path), filepath.Ext(cmd.Path))
		if err := d.swapBank(c, d.current(), cmd.Path, recipe); err != nil {
			return "", err
		}
		return recipe, nil
	case actuate.SetTrigger:
		// An unserved trigger still gets an error verdict; the error also
		// goes out as an event. So does one that waited past the deadline
		// before it reached us: the part has left the camera.
		if reason := cmd.Stale(d.loop.Load().deadline); reason != "" {
			c.refuse(cmd.PartID, reason, cmd.Delivery)
			return "", errors.New(reason)
		}
		if err := c.trigger(cmd.PartID, cmd.Delivery); err != nil {
			return "", err
		}
		return "", nil
	case actuate.SetEnroll:
		return "", d.enroll(c, cmd.Path)
	}
	return "", fmt.Errorf("setting %q is not handled by the daemon", cmd.Setting)
}

func thresholdState(t float64) string {
	if t <= 0 {
		return "auto"
	}
	return strconv.FormatFloat(t, 'g', -1, 64)
}

// swapBank builds the engine for the bank at path, then swaps it in: frames
// already inspecting finish on the old bank, the next frame uses the new one.
func (d *Daemon) swapBank(c *camera, cfg config.Config, path, recipe string) error {
	insp, provider, err := d.deps.NewInspector(cfg, path)
	if err != nil {
		return fmt.Errorf("load bank %s: %w", path, err)
	}
	c.engine.Store(&engineRef{insp: insp, bank: path, bankID: bankID(path), recipe: recipe, provider: provider})
	d.log.Info("recipe switched", "camera", c.name, "recipe", recipe, "bank", path)
	return nil
}

// enroll builds a new bank from the good images in dir, writes it under
// [daemon] bank_dir and switches the camera to it. It runs in the
// background; the outcome is an event and, on success, the recipe state.
func (d *Daemon) enroll(c *camera, dir string) error {
	cfg := d.current()
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return fmt.Errorf("%s is not a folder of good images", dir)
	}
	if cfg.Daemon.BankDir == "" {
		return fmt.Errorf("[daemon] bank_dir is not set; the new bank needs a place")
	}
	recipe := c.name + "-" + filepath.Base(dir) + "-" + time.Now().UTC().Format("20060102T150405")
	out := filepath.Join(cfg.Daemon.BankDir, recipe+".bank")
	d.event(actuate.Event{Camera: c.name, Level: actuate.LevelInfo, Kind: "enroll", Msg: "enrolling " + dir})
	go func() {
		err := d.deps.Enroll(cfg, dir, out)
		if err == nil {
			err = d.swapBank(c, cfg, out, recipe)
		}
		if err != nil {
			d.event(actuate.Event{Camera: c.name, Level: actuate.LevelError, Kind: "enroll", Msg: fmt.Sprintf("enrol from %s failed, the current bank stays: %v", dir, err)})
			return
		}
		d.publisher().PublishState(c.name, actuate.SetRecipe, recipe)
		d.event(actuate.Event{Camera: c.name, Level: actuate.LevelInfo, Kind: "enroll", Msg: "enrolled " + dir + " as " + recipe})
	}()
	return nil
}

// publishState publishes a camera's retained settings.
func (d *Daemon) publishState(c *camera) {
	p := d.publisher()
	for _, err := range []error{
		p.PublishState(c.name, actuate.SetEnabled, strconv.FormatBool(c.enabled.Load())),
		p.PublishState(c.name, actuate.SetThreshold, thresholdState(c.thresholdOverride())),
		p.PublishState(c.name, actuate.SetRecipe, c.engine.Load().recipe),
	} {
		if err != nil {
			d.log.Warn("publish state", "camera", c.name, "err", err)
		}
	}
}
