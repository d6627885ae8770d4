package carillontest_test

import (
	"os"
	"testing"

	"github.com/carillonhq/carillon/carillontest"
)

// TestMain stops the PostgreSQL server the tests started when
// CARILLON_TEST_STORE=postgres.
func TestMain(m *testing.M) { os.Exit(carillontest.Main(m)) }
