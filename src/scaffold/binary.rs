//! Binary-file detection as cookiecutter does it (binaryornot 0.6: known
//! extensions, magic signatures, then its trained decision tree over byte
//! statistics of the first 512 bytes). The tables and the tree are generated
//! from binaryornot's data files and tree.py; regenerate rather than edit.

use std::path::Path;

/// File extensions binaryornot treats as binary without reading the file.
const BINARY_EXTENSIONS: &[&str] = &[
    "3ds", "7z", "aac", "accdb", "aif", "aiff", "alac", "ape", "arrow", "avi", "avif", "avro",
    "bin", "blend", "bmp", "bz2", "cab", "class", "com", "cr2", "cr3", "dae", "db", "dbf", "dll",
    "dmg", "dng", "doc", "docx", "dwf", "dwg", "dxb", "eot", "epub", "exe", "fbx", "fit", "fits",
    "flac", "flv", "fw", "gba", "gif", "glb", "gz", "hdf5", "heic", "heif", "ico", "img", "iso",
    "jar", "jfif", "jp2", "jpeg", "jpg", "jxl", "lz", "lz4", "lzma", "m4a", "m4v", "mat", "mdb",
    "mid", "midi", "mkv", "mobi", "mov", "mp3", "mp4", "mpeg", "mpg", "msi", "n64", "nds", "nef",
    "nes", "npy", "npz", "o", "odt", "ogg", "ogv", "opus", "orf", "otf", "pages", "pak", "parquet",
    "pcap", "pcapng", "pdf", "png", "ppt", "pptx", "psd", "pyc", "pyo", "qcow2", "rar", "raw",
    "rom", "sav", "sfc", "shp", "shx", "smc", "so", "sqlite", "sqlite3", "step", "stl", "stp",
    "tar", "tif", "tiff", "ttc", "ttf", "usdz", "vdi", "vhd", "vmdk", "wasm", "wav", "webm",
    "webp", "wma", "wmv", "woff", "woff2", "xcf", "xls", "xlsx", "xz", "z", "zip", "zst",
];

/// Magic numbers (hex) of binary formats.
const SIGNATURES: &[&str] = &[
    "89504e470d0a1a0a",
    "ffd8ffe0",
    "ffd8ffe1",
    "474946383761",
    "474946383961",
    "424d",
    "4d4d002a",
    "49492a00",
    "00000100",
    "255044462d312e",
    "53514c69746520666f726d6174203300",
    "504b0304",
    "1f8b08",
    "fd377a585a00",
    "7f454c46",
    "feedface",
    "cefaedfe",
    "feedfacf",
    "cffaedfe",
    "4d5a",
    "cafebabe",
    "52494646",
    "4f676753",
    "664c6143",
    "0061736d",
    "774f4646",
    "4f54544f",
    "0001000000",
    "0000000142756431",
    "774f4632",
    "524946460000000057454250",
    "0000001866747970",
    "494433",
    "425a68",
    "377abcaf271c",
    "d0cf11e0a1b11ae1",
    "28b52ffd",
    "526172211a07",
    "1a45dfa3",
    "4d546864",
    "38425053",
    "0000001c6674797068656963",
    "50415231",
    "6465780a",
    "4243c0de",
    "5041434b",
    "62706c697374",
    "213c617263683e0a",
    "04224d18",
    "4152524f5731",
    "4f626a01",
    "5d0000",
    "a1b2c3d4",
    "ff060000734e61507059",
    "feedfeed",
    "303730373031",
];

/// Whether cookiecutter would copy this file verbatim instead of rendering it.
pub fn is_binary(path: &Path, content: &[u8]) -> bool {
    // Python's Path.suffix: empty for ".bashrc", "txt" for "a.txt".
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if !ext.is_empty() && BINARY_EXTENSIONS.contains(&ext.as_str()) {
        return true;
    }
    is_binary_string(&content[..content.len().min(512)])
}

fn has_signature(chunk: &[u8]) -> bool {
    SIGNATURES.iter().any(|hex| {
        let sig = decode_hex(hex);
        chunk.len() >= sig.len() && chunk[..sig.len()] == sig[..]
    })
}

fn decode_hex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// binaryornot's `is_binary_string`.
pub fn is_binary_string(chunk: &[u8]) -> bool {
    if chunk.is_empty() {
        return false;
    }
    if has_signature(chunk) {
        return true;
    }
    decide(&features(chunk))
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn decodes(chunk: &[u8], enc: &'static encoding_rs::Encoding) -> f64 {
    let (_, had_errors) = enc.decode_without_bom_handling(chunk);
    flag(!had_errors)
}

fn decodes_utf16(chunk: &[u8], le: bool) -> f64 {
    if !chunk.len().is_multiple_of(2) {
        return 0.0;
    }
    let units = chunk.chunks(2).map(|p| {
        if le {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    flag(char::decode_utf16(units).all(|r| r.is_ok()))
}

fn decodes_utf32(chunk: &[u8], le: bool) -> f64 {
    if !chunk.len().is_multiple_of(4) {
        return 0.0;
    }
    flag(chunk.chunks(4).all(|p| {
        let v = if le {
            u32::from_le_bytes([p[0], p[1], p[2], p[3]])
        } else {
            u32::from_be_bytes([p[0], p[1], p[2], p[3]])
        };
        char::from_u32(v).is_some()
    }))
}

fn features(chunk: &[u8]) -> [f64; 24] {
    let len = chunk.len();
    let n = len as f64;
    let count = |p: &dyn Fn(u8) -> bool| chunk.iter().filter(|b| p(**b)).count() as f64;
    let null_ratio = count(&|b| b == 0) / n;
    let control_ratio = count(&|b| b < 32 && b != 9 && b != 10 && b != 13) / n;
    let printable = count(&|b| (0x20..=0x7e).contains(&b)) / n;
    let high = count(&|b| b >= 0x80) / n;
    let utf8 = flag(std::str::from_utf8(chunk).is_ok());
    let even_total = len.div_ceil(2) as f64;
    let odd_total = (len / 2) as f64;
    let even_nulls = chunk.iter().step_by(2).filter(|b| **b == 0).count() as f64;
    let odd_nulls = chunk.iter().skip(1).step_by(2).filter(|b| **b == 0).count() as f64;
    let even_ratio = if even_total > 0.0 {
        even_nulls / even_total
    } else {
        0.0
    };
    let odd_ratio = if odd_total > 0.0 {
        odd_nulls / odd_total
    } else {
        0.0
    };
    let mut hist = [0usize; 256];
    for b in chunk {
        hist[*b as usize] += 1;
    }
    let mut entropy = 0.0;
    for c in hist {
        if c > 0 {
            let p = c as f64 / n;
            entropy -= p * p.log2();
        }
    }
    let starts = |p: &[u8]| chunk.starts_with(p);
    let bom32le = flag(starts(b"\xff\xfe\x00\x00"));
    let bom32be = flag(starts(b"\x00\x00\xfe\xff"));
    let bom16le = flag(starts(b"\xff\xfe") && !starts(b"\xff\xfe\x00\x00"));
    let bom16be = flag(starts(b"\xfe\xff"));
    let bom8 = flag(starts(b"\xef\xbb\xbf"));
    let (mut u16le, mut u16be, mut u32le, mut u32be) = (0.0, 0.0, 0.0, 0.0);
    if len >= 10 {
        u16le = decodes_utf16(chunk, true);
        u16be = decodes_utf16(chunk, false);
    }
    if len >= 16 {
        u32le = decodes_utf32(chunk, true);
        u32be = decodes_utf32(chunk, false);
    }
    let mut max_run = 0usize;
    let mut run = 0usize;
    for b in chunk {
        if (0x20..=0x7e).contains(b) || matches!(b, 9 | 10 | 13) {
            run += 1;
            max_run = max_run.max(run);
        } else {
            run = 0;
        }
    }
    let longest_run = max_run as f64 / n;
    // Python's gb2312/big5/shift_jis/euc_jp/euc_kr codecs, approximated by
    // the WHATWG decoders (slightly more permissive in rare code points).
    let cjk = |enc| if len >= 10 { decodes(chunk, enc) } else { 0.0 };
    [
        null_ratio,
        control_ratio,
        printable,
        high,
        utf8,
        even_ratio,
        odd_ratio,
        entropy,
        bom32le,
        bom32be,
        bom16le,
        bom16be,
        bom8,
        u16le,
        u16be,
        u32le,
        u32be,
        longest_run,
        cjk(encoding_rs::GBK),
        cjk(encoding_rs::BIG5),
        cjk(encoding_rs::SHIFT_JIS),
        cjk(encoding_rs::EUC_JP),
        cjk(encoding_rs::EUC_KR),
        flag(has_signature(chunk)),
    ]
}

/// binaryornot's decision tree (tree.py), transcribed as generated (its
/// redundant branches kept, so it can be compared line by line).
#[allow(clippy::all)]
fn decide(f: &[f64; 24]) -> bool {
    if f[1] <= 0.000977 {
        if f[17] <= 0.000977 {
            if f[4] <= 0.500000 {
                if f[22] <= 0.500000 {
                    if f[7] <= 1.953445 {
                        return true;
                    } else {
                        if f[7] <= 2.749470 {
                            return false;
                        } else {
                            if f[14] <= 0.500000 {
                                return true;
                            } else {
                                return true;
                            }
                        }
                    }
                } else {
                    return false;
                }
            } else {
                return false;
            }
        } else {
            if f[4] <= 0.500000 {
                if f[17] <= 0.063636 {
                    if f[7] <= 2.021329 {
                        return true;
                    } else {
                        if f[13] <= 0.500000 {
                            return false;
                        } else {
                            return false;
                        }
                    }
                } else {
                    if f[7] <= 3.047898 {
                        return false;
                    } else {
                        if f[2] <= 0.758706 {
                            if f[17] <= 0.134848 {
                                if f[3] <= 0.633612 {
                                    if f[7] <= 3.851786 {
                                        return false;
                                    } else {
                                        if f[3] <= 0.483333 {
                                            return false;
                                        } else {
                                            if f[17] <= 0.129167 {
                                                return true;
                                            } else {
                                                return false;
                                            }
                                        }
                                    }
                                } else {
                                    if f[2] <= 0.145455 {
                                        return false;
                                    } else {
                                        return true;
                                    }
                                }
                            } else {
                                if f[19] <= 0.500000 {
                                    if f[7] <= 3.572021 {
                                        if f[3] <= 0.490000 {
                                            if f[2] <= 0.651515 {
                                                return false;
                                            } else {
                                                return true;
                                            }
                                        } else {
                                            if f[7] <= 3.370112 {
                                                return true;
                                            } else {
                                                if f[3] <= 0.651515 {
                                                    if f[17] <= 0.318182 {
                                                        return true;
                                                    } else {
                                                        return true;
                                                    }
                                                } else {
                                                    return true;
                                                }
                                            }
                                        }
                                    } else {
                                        if f[2] <= 0.615079 {
                                            if f[20] <= 0.500000 {
                                                if f[13] <= 0.500000 {
                                                    return true;
                                                } else {
                                                    return true;
                                                }
                                            } else {
                                                if f[17] <= 0.176923 {
                                                    return false;
                                                } else {
                                                    return true;
                                                }
                                            }
                                        } else {
                                            if f[17] <= 0.252381 {
                                                return false;
                                            } else {
                                                return true;
                                            }
                                        }
                                    }
                                } else {
                                    if f[7] <= 3.889752 {
                                        return true;
                                    } else {
                                        return false;
                                    }
                                }
                            }
                        } else {
                            return false;
                        }
                    }
                }
            } else {
                return false;
            }
        }
    } else {
        if f[0] <= 0.163978 {
            if f[4] <= 0.500000 {
                if f[7] <= 3.264621 {
                    if f[17] <= 0.022678 {
                        if f[2] <= 0.000977 {
                            if f[5] <= 0.001953 {
                                return false;
                            } else {
                                return true;
                            }
                        } else {
                            return true;
                        }
                    } else {
                        if f[1] <= 0.095455 {
                            if f[17] <= 0.306818 {
                                if f[1] <= 0.055728 {
                                    return false;
                                } else {
                                    return false;
                                }
                            } else {
                                return true;
                            }
                        } else {
                            return false;
                        }
                    }
                } else {
                    if f[10] <= 0.500000 {
                        if f[2] <= 0.455534 {
                            if f[3] <= 0.790570 {
                                if f[1] <= 0.485714 {
                                    if f[7] <= 3.540884 {
                                        if f[7] <= 3.528408 {
                                            if f[2] <= 0.316667 {
                                                if f[2] <= 0.286364 {
                                                    if f[17] <= 0.095455 {
                                                        return true;
                                                    } else {
                                                        return true;
                                                    }
                                                } else {
                                                    if f[13] <= 0.500000 {
                                                        return false;
                                                    } else {
                                                        return true;
                                                    }
                                                }
                                            } else {
                                                return true;
                                            }
                                        } else {
                                            return false;
                                        }
                                    } else {
                                        if f[2] <= 0.446657 {
                                            return true;
                                        } else {
                                            if f[17] <= 0.066638 {
                                                if f[2] <= 0.450099 {
                                                    return false;
                                                } else {
                                                    return true;
                                                }
                                            } else {
                                                return true;
                                            }
                                        }
                                    }
                                } else {
                                    return false;
                                }
                            } else {
                                return false;
                            }
                        } else {
                            if f[3] <= 0.425959 {
                                if f[3] <= 0.394552 {
                                    if f[7] <= 4.209417 {
                                        if f[7] <= 4.175213 {
                                            if f[3] <= 0.100962 {
                                                return false;
                                            } else {
                                                if f[3] <= 0.248047 {
                                                    return true;
                                                } else {
                                                    if f[17] <= 0.106443 {
                                                        return false;
                                                    } else {
                                                        return true;
                                                    }
                                                }
                                            }
                                        } else {
                                            return false;
                                        }
                                    } else {
                                        if f[23] <= 0.500000 {
                                            return true;
                                        } else {
                                            return true;
                                        }
                                    }
                                } else {
                                    if f[17] <= 0.082906 {
                                        return false;
                                    } else {
                                        if f[1] <= 0.025000 {
                                            return false;
                                        } else {
                                            if f[7] <= 3.520764 {
                                                return false;
                                            } else {
                                                if f[1] <= 0.122500 {
                                                    return true;
                                                } else {
                                                    if f[0] <= 0.033333 {
                                                        return false;
                                                    } else {
                                                        return true;
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            } else {
                                if f[17] <= 0.098599 {
                                    if f[1] <= 0.012902 {
                                        return true;
                                    } else {
                                        if f[23] <= 0.500000 {
                                            return false;
                                        } else {
                                            if f[3] <= 0.458087 {
                                                return true;
                                            } else {
                                                return true;
                                            }
                                        }
                                    }
                                } else {
                                    if f[7] <= 4.453697 {
                                        if f[3] <= 0.472136 {
                                            if f[17] <= 0.121324 {
                                                return false;
                                            } else {
                                                if f[17] <= 0.302885 {
                                                    if f[7] <= 3.539612 {
                                                        return false;
                                                    } else {
                                                        return true;
                                                    }
                                                } else {
                                                    return false;
                                                }
                                            }
                                        } else {
                                            return true;
                                        }
                                    } else {
                                        return true;
                                    }
                                }
                            }
                        }
                    } else {
                        if f[14] <= 0.500000 {
                            return false;
                        } else {
                            return false;
                        }
                    }
                }
            } else {
                if f[1] <= 0.450000 {
                    if f[1] <= 0.006212 {
                        return true;
                    } else {
                        return false;
                    }
                } else {
                    return true;
                }
            }
        } else {
            if f[23] <= 0.500000 {
                if f[3] <= 0.082843 {
                    if f[6] <= 0.282534 {
                        return false;
                    } else {
                        if f[7] <= 3.088801 {
                            if f[0] <= 0.822852 {
                                if f[2] <= 0.291667 {
                                    return false;
                                } else {
                                    if f[1] <= 0.521739 {
                                        return false;
                                    } else {
                                        return true;
                                    }
                                }
                            } else {
                                if f[16] <= 0.500000 {
                                    return true;
                                } else {
                                    return true;
                                }
                            }
                        } else {
                            if f[5] <= 0.140625 {
                                return false;
                            } else {
                                return true;
                            }
                        }
                    }
                } else {
                    if f[17] <= 0.291667 {
                        if f[7] <= 0.698576 {
                            return true;
                        } else {
                            if f[7] <= 5.613847 {
                                if f[2] <= 0.361264 {
                                    if f[20] <= 0.500000 {
                                        return false;
                                    } else {
                                        if f[14] <= 0.500000 {
                                            if f[0] <= 0.379808 {
                                                return false;
                                            } else {
                                                return true;
                                            }
                                        } else {
                                            return false;
                                        }
                                    }
                                } else {
                                    if f[2] <= 0.408333 {
                                        if f[1] <= 0.260000 {
                                            return false;
                                        } else {
                                            return true;
                                        }
                                    } else {
                                        return false;
                                    }
                                }
                            } else {
                                if f[17] <= 0.012485 {
                                    return false;
                                } else {
                                    return true;
                                }
                            }
                        }
                    } else {
                        return true;
                    }
                }
            } else {
                if f[20] <= 0.500000 {
                    return true;
                } else {
                    return true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary() {
        assert!(!is_binary(Path::new("a.py"), b"print('hello')\n"));
        assert!(is_binary(Path::new("a.png"), b"anything"));
        assert!(is_binary(
            Path::new("a.bin"),
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        ));
        // Verdicts of binaryornot 0.6 itself on the same bytes.
        let all: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        assert!(is_binary(Path::new("blob"), &all));
        assert!(!is_binary(
            Path::new("blob"),
            &[0u8, 1, 2, 3, 255, 254, 0, 0, 7, 9, 200, 0, 0, 13, 0, 1]
        ));
        assert!(!is_binary(
            Path::new("blob"),
            &b"\x00\x01\x02\x03".repeat(40)
        ));
    }
}
