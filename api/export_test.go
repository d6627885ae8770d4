package api

// PatternIsSequence reports whether p matches without regexp.
func PatternIsSequence(p *Pattern) bool { return p.seq != nil }
