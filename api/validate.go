package api

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/carillonhq/carillon"
)

// Validator collects constraint failures in the wording AWS services use
// ("1 validation error detected: Value at 'Name' failed to satisfy
// constraint: Member must not be null"), so that a client sees every broken
// member at once. Generated Validate methods drive it; the zero value is
// ready to use.
type Validator struct {
	errs []string
}

func (v *Validator) fail(path, constraint string) {
	v.errs = append(v.errs, "Value at '"+path+"' failed to satisfy constraint: Member must "+constraint)
}

// Required records a missing required member.
func (v *Validator) Required(path string, present bool) {
	if !present {
		v.errs = append(v.errs, "Value null at '"+path+"' failed to satisfy constraint: Member must not be null")
	}
}

// Length checks a string's length in characters (Unicode code points, as
// Smithy's length trait counts them). A negative bound is absent.
func (v *Validator) Length(path, s string, min, max int) {
	n := len(s)
	if max >= 0 && n <= max && (min <= 0 || n >= min) && isASCII(s) {
		return // fast path: byte length equals rune length
	}
	n = utf8.RuneCountInString(s)
	v.checkBounds(path, int64(n), int64(min), int64(max), "have length")
}

// Count checks the number of items in a list or entries in a map.
func (v *Validator) Count(path string, n, min, max int) {
	v.checkBounds(path, int64(n), int64(min), int64(max), "have length")
}

// Range checks an integer against the model's range trait.
func (v *Validator) Range(path string, n int64, min, max int64, hasMin, hasMax bool) {
	if hasMin && n < min {
		v.fail(path, "have value greater than or equal to "+strconv.FormatInt(min, 10))
	}
	if hasMax && n > max {
		v.fail(path, "have value less than or equal to "+strconv.FormatInt(max, 10))
	}
}

func (v *Validator) checkBounds(path string, n, min, max int64, what string) {
	if min > 0 && n < min {
		v.fail(path, what+" greater than or equal to "+strconv.FormatInt(min, 10))
	}
	if max >= 0 && n > max {
		v.fail(path, what+" less than or equal to "+strconv.FormatInt(max, 10))
	}
}

// Pattern checks that the whole of s matches re. Generated code compiles the
// model's pattern anchored at both ends.
func (v *Validator) Pattern(path, s string, re *Pattern) {
	if !re.MatchString(s) {
		v.fail(path, "satisfy regular expression pattern: "+strings.TrimSuffix(strings.TrimPrefix(re.String(), `^(?s:`), `)$`))
	}
}

// Enum checks that s is one of the model's enum values.
func (v *Validator) Enum(path, s string, values []string) {
	for _, allowed := range values {
		if s == allowed {
			return
		}
	}
	v.fail(path, "satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// Err returns the collected failures as one BadRequest error, or nil.
func (v *Validator) Err() error {
	switch len(v.errs) {
	case 0:
		return nil
	case 1:
		return &carillon.Error{Kind: carillon.BadRequest, Message: "1 validation error detected: " + v.errs[0]}
	}
	return &carillon.Error{Kind: carillon.BadRequest, Message: strconv.Itoa(len(v.errs)) + " validation errors detected: " + strings.Join(v.errs, "; ")}
}

// Path joins a member path the way the messages name nested members.
func Path(parent, member string) string {
	if parent == "" {
		return member
	}
	return parent + "." + member
}

// Index names a list item in a member path.
func Index(parent string, i int) string {
	return parent + ".member." + strconv.Itoa(i+1)
}

// Key names a map entry in a member path.
func Key(parent, key string) string {
	return parent + ".entry." + key
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// BadQuery reports a query parameter or header that could not be parsed as
// the type the model gives it.
func BadQuery(name, typ string) error {
	return carillon.Errorf(carillon.BadRequest, "Invalid value for '%s': expected %s", name, typ)
}

// ParseInt32 parses an integer bound to the query or a header.
func ParseInt32(name, s string) (*int32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return nil, BadQuery(name, "an integer")
	}
	v := int32(n)
	return &v, nil
}
