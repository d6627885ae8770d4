package bus

import (
	"testing"

	"github.com/carillonhq/carillon/bus/bustest"
)

func TestLocal(t *testing.T) {
	bustest.Run(t, func(*testing.T) bustest.Bus { return NewLocal() })
}
