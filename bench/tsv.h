/* tsv.h: the evaluation tools' input files.
 *
 * A file is UTF-8 `a<TAB>b[<TAB>...]` lines after one header line; further
 * columns are ignored, blank lines skipped. Both first fields must be
 * non-empty. Anything else is refused with "file:line: reason" on stderr. */
#ifndef SUPPORTD_BENCH_TSV_H
#define SUPPORTD_BENCH_TSV_H

/* Called with each row's first two fields (borrowed for the call); returns
 * 0, or -1 to refuse the row. */
typedef int tsv_row_fn(const char *a, const char *b, void *ud);

/* Reads path, calling fn for every data row. Returns 0, or -1 after
 * printing why (a file without data rows is refused too). */
int tsv_read(const char *path, tsv_row_fn *fn, void *ud);

#endif
