package scenes

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/samlad/samlad/config"
)

// LayoutRadius is the box recipe's layout.radius: half the spacing of
// neighbouring compartment centres, so that a part compares with the good
// images' parts of its own compartment, wherever it lies inside.
const LayoutRadius = 6.8 / 16 / 2

// Recipe returns the per-product recipe a kind of scene was inspected
// with before enrolment learned the product's rules: base with the layout
// step's keys set by hand (nil change for kinds without one). Its figures
// are labelled as recipe figures (make eval-recipes); the headline figures
// use the defaults.
//   - Box: fixed compartments with parts at random poses inside. Each part
//     is pooled whole (grid 1); the object term is off, a moved part being
//     one too many in one compartment and one too few in another; k = 8.
//   - Bag: parts lie anywhere, so the whole image is one position
//     (radius 1) and the step only counts parts per kind.
func Recipe(kind Kind, base config.Pipeline) config.Pipeline {
	l := &base.Layout
	switch kind {
	case Bag:
		l.Enabled, l.Only, l.Refs, l.Radius, l.Grid = true, false, 0, 1, 1
		l.ObjectWeight, l.MissingWeight, l.ExcessWeight = 0, 0.5, 0.5
	case Box:
		l.Enabled, l.Only, l.Refs, l.Radius, l.Grid = true, false, 0, LayoutRadius, 1
		l.ObjectWeight, l.MissingWeight, l.ExcessWeight = 0, 0.25, 1
		base.K = 8
	}
	return base
}

// RecipeFile is kind's recipe as a config file: the pipeline keys it sets,
// nested as TOML tables, as a plant keeps one per product (nil when the
// kind is inspected with the defaults).
func RecipeFile(kind Kind) ([]byte, error) {
	base := config.DefaultPipeline()
	keys := config.PipelineChanges(base, Recipe(kind, base))
	if len(keys) == 0 {
		return nil, nil
	}
	doc := map[string]any{}
	for _, k := range keys {
		path := strings.Split(k.Key, ".")
		t := doc
		for _, name := range path[:len(path)-1] {
			if t[name] == nil {
				t[name] = map[string]any{}
			}
			t = t[name].(map[string]any)
		}
		t[path[len(path)-1]] = k.Value
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# The %s scenes' recipe (eval/scenes.Recipe): the keys it sets; the rest keep their defaults.\n", kind)
	if err := toml.NewEncoder(&b).Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
