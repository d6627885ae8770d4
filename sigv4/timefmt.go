package sigv4

import (
	"strconv"
	"time"
)

// amzDateLayout is ISO 8601 basic format, the only form SigV4 signs.
const amzDateLayout = "20060102T150405Z"

// parseAmzDate parses YYYYMMDDTHHMMSSZ strictly. time.Parse is not used
// because it accepts one-digit hours and similar looseness, and the string
// is signed byte for byte, so anything but the exact form is an error.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateLayout) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(4, 2), num(6, 2)
	hour, minute, sec := num(9, 2), num(11, 2), num(13, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // e.g. February 30th normalised into March
		return time.Time{}, false
	}
	return t, true
}

func formatAmzDate(t time.Time) string {
	return t.UTC().Format(amzDateLayout)
}

// formatWindow renders a tolerance the way AWS's skew messages do
// ("15 min."), falling back to seconds for windows that are not whole
// minutes, such as a presigned URL's X-Amz-Expires.
func formatWindow(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + " sec."
	}
	return d.String()
}

// checkWindow reports whether signed (as written by the client in
// signedStr) lies within [now-past, now+future], with AWS's messages when it
// does not.
func checkWindow(signedStr string, signed, now time.Time, past, future time.Duration) *Error {
	if earliest := now.Add(-past); signed.Before(earliest) {
		return errInvalid("Signature expired: "+signedStr+" is now earlier than "+formatAmzDate(earliest)+
			" ("+formatAmzDate(now)+" - "+formatWindow(past)+")", "request date outside the allowed window")
	}
	if latest := now.Add(future); signed.After(latest) {
		return errInvalid("Signature not yet current: "+signedStr+" is still later than "+formatAmzDate(latest)+
			" ("+formatAmzDate(now)+" + "+formatWindow(future)+")", "request date outside the allowed window")
	}
	return nil
}
