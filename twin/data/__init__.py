"""Price data: readers for tidy CSVs and ENTSO-E exports, downloads, regularisation."""
