//! The IDX reader on arbitrary bytes, as a raw file and as a `.gz` file: it must return an
//! error or an array whose length matches its dimensions, never panic, hang or allocate what
//! the header claims before the data is there.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["fuzz-idx1-ubyte", "fuzz-idx1-ubyte.gz"] {
        if let Ok(array) = datasets::parse_idx(data, Path::new(name)) {
            let numel = array.numel();
            assert_eq!(array.data().len(), numel);
            assert_eq!(array.to_tensor().numel(), numel);
            // what was read writes back and reads again to the same array (raw form)
            let again = datasets::parse_idx(&array.encode(), Path::new("again")).unwrap();
            assert_eq!(again.dims(), array.dims());
        }
    }
});
