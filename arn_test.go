package carillon

import "testing"

func TestParseResource(t *testing.T) {
	ok := map[string]Resource{
		"arn:aws:chime:us-east-1:000000000000:app-instance/a1":                {Partition: "aws", Region: "us-east-1", Account: "000000000000", AppInstanceID: "a1", Type: TypeAppInstance},
		"arn:aws:chime:us-east-1:000000000000:app-instance/a1/user/u:1@x.y":   {Partition: "aws", Region: "us-east-1", Account: "000000000000", AppInstanceID: "a1", Type: TypeUser, ID: "u:1@x.y"},
		"arn:aws:chime:us-east-1:000000000000:app-instance/a1/channel-flow/f": {Partition: "aws", Region: "us-east-1", Account: "000000000000", AppInstanceID: "a1", Type: TypeChannelFlow, ID: "f"},
	}
	for arn, want := range ok {
		got, valid := ParseResource(arn)
		if !valid || got != want {
			t.Errorf("%s: %+v %v", arn, got, valid)
		}
		if got.String() != arn {
			t.Errorf("%s formats back as %s", arn, got.String())
		}
	}
	for _, bad := range []string{
		"", "arn:aws:chime:us-east-1:0:app-instance", "arn:aws:chime:us-east-1:0:app-instance/",
		"arn:aws:sns:us-east-1:0:app-instance/a", "arn:aws:chime:us-east-1:0:app-instance/a/user",
		"arn:aws:chime:us-east-1:0:app-instance/a/user/", "arn:aws:chime:us-east-1:0:app-instance/a/thing/x",
		"arn:aws:chime:us-east-1:0:app-instance/a/user/u/extra",
	} {
		if _, valid := ParseResource(bad); valid {
			t.Errorf("%q parsed", bad)
		}
	}
	a := ARNs{Partition: "aws", Region: "us-east-1", Account: "0"}
	r, _ := ParseResource(a.Child(a.AppInstance("x"), TypeBot, "b"))
	if !a.Owns(r) || r.Type != TypeBot || r.AppInstanceARN() != a.AppInstance("x") {
		t.Errorf("%+v", r)
	}
}
