package storecodec

import "github.com/carillonhq/carillon"

// StreamCursorStarts returns the streams of cs, in the order they first
// appear, each with the lowest Since of its configurations: where the
// cursor of a stream that had none begins.
func StreamCursorStarts(cs []carillon.StreamingConfiguration) (streams []string, since map[string]int64) {
	since = map[string]int64{}
	for _, c := range cs {
		if s, ok := since[c.ResourceARN]; !ok || c.Since < s {
			if !ok {
				streams = append(streams, c.ResourceARN)
			}
			since[c.ResourceARN] = c.Since
		}
	}
	return streams, since
}
