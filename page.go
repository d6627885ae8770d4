package carillon

// Page asks for one page of a list ordered by a unique key: the rows whose
// key is greater than After ("" for the first page), at most Limit of them.
// Keyset pages do not shift when rows are inserted or deleted between two
// calls, so a client paging through a list sees no row twice. Package
// internal/paging turns them into the APIs' NextToken and MaxResults.
type Page struct {
	After string
	Limit int
}
