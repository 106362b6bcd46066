/* supernav host utilities: the unquoted CSV of accuracy.csv and the run files. */
#ifndef SN_CSV_H
#define SN_CSV_H

/* Splits one CSV line (no quoting) into at most MAX fields in place; returns the count. */
int sn_csv_split(char *line, char **fields, int max);

#endif
