package approval

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
)

// Conditions are CEL expressions (github.com/google/cel-go) over one
// variable, application: the application document as a map. CEL is
// side-effect free and not Turing-complete, and each evaluation is bounded
// by a cost limit, so a definition cannot make the engine loop or reach
// outside the application. Numbers compare across int and double (1 == 1.0).
const (
	// MaxConditionLength is the longest condition accepted, in bytes.
	MaxConditionLength = 2000
	// ConditionCostLimit bounds the work of one evaluation (CEL cost units).
	ConditionCostLimit = 100000
)

var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("application", cel.MapType(cel.StringType, cel.DynType)),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(MaxConditionLength),
	)
})

// Condition is a compiled branch condition.
type Condition struct {
	source string
	prg    cel.Program
}

// String returns the condition's source.
func (c *Condition) String() string { return c.source }

// ErrNotBoolean is returned (wrapped) by CompileCondition for an
// expression whose type is not bool.
var ErrNotBoolean = errors.New("condition is not boolean")

// CompileCondition compiles and type-checks a condition. An expression
// whose static type is not bool (a bare application.flag is dyn) is
// refused with ErrNotBoolean: write application.flag == true.
func CompileCondition(src string) (*Condition, error) {
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	if t := ast.OutputType(); !t.IsExactType(types.BoolType) {
		return nil, fmt.Errorf("%w: its type is %s; expected bool, such as application.amount > 100 or application.flag == true", ErrNotBoolean, t)
	}
	prg, err := env.Program(ast, cel.CostLimit(ConditionCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, err
	}
	return &Condition{source: src, prg: prg}, nil
}

// Eval evaluates the condition on an application (a tree as strictjson or
// encoding/json produce it). A missing field or a type mismatch is an
// error, not false: a branch must not be taken or skipped by accident.
func (c *Condition) Eval(application map[string]any) (bool, error) {
	return c.eval(celValue(application).(map[string]any))
}

// eval evaluates on an application already converted by celValue.
func (c *Condition) eval(application map[string]any) (bool, error) {
	out, _, err := c.prg.Eval(map[string]any{"application": application})
	if err != nil {
		return false, fmt.Errorf("approval: condition %q: %w", c.source, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("approval: condition %q gave %v; expected a boolean", c.source, out.Value())
	}
	return b, nil
}

// celValue converts json.Number to int64 or float64, recursively, since
// CEL has no arbitrary-precision number type.
func celValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = celValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = celValue(e)
		}
		return out
	}
	return v
}
