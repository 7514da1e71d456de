"""Files on the local disk, read and written safely: regular files only, bounded, never followed
through a symlink, FIFO or device (the library's folder and the CLI's own input and output)."""
