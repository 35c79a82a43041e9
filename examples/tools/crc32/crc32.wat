;; A Briefcase code tool (WebAssembly): CRC-32 of args.data. Assemble with wabt:
;;   npx wat2wasm crc32.wat -o crc32.wasm   (the tests assemble it themselves)
;; ABI (docs/code-tools.md): export memory (with a maximum), alloc(len) -> ptr, run(ptr, len);
;; run gets the arguments as JSON and answers with host.output(ptr, len).
;; The schema makes the JSON exactly {"data":"…"} with no escapes: the bytes are [ptr+9, ptr+len-2).
(module
  (import "host" "output" (func $output (param i32 i32)))
  (memory (export "memory") 2 4)
  (data (i32.const 0) "{\"crc32\":")
  (global $heap (mut i32) (i32.const 4096))

  (func (export "alloc") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $len)))
    (block $ok
      (loop $grow
        (br_if $ok (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $p))

  (func $crc32 (param $p i32) (param $end i32) (result i32)
    (local $crc i32) (local $k i32)
    (local.set $crc (i32.const -1))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $crc (i32.xor (local.get $crc) (i32.load8_u (local.get $p))))
        (local.set $k (i32.const 8))
        (loop $bits
          (local.set $crc
            (i32.xor
              (i32.shr_u (local.get $crc) (i32.const 1))
              (i32.and (i32.const 0xEDB88320) (i32.sub (i32.const 0) (i32.and (local.get $crc) (i32.const 1))))))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $bits (local.get $k)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    (i32.xor (local.get $crc) (i32.const -1)))

  (func (export "run") (param $ptr i32) (param $len i32)
    (local $v i64) (local $n i32) (local $i i32)
    (local.set $v (i64.extend_i32_u
      (call $crc32 (i32.add (local.get $ptr) (i32.const 9)) (i32.sub (i32.add (local.get $ptr) (local.get $len)) (i32.const 2)))))
    ;; decimal digits, last first, at 64..
    (loop $digits
      (i32.store8 (i32.add (i32.const 64) (local.get $n))
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $v) (i64.const 0))))
    ;; copy them after the prefix in order, then "}"
    (loop $copy
      (i32.store8 (i32.add (i32.const 9) (local.get $i))
        (i32.load8_u (i32.add (i32.const 63) (i32.sub (local.get $n) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $copy (i32.lt_u (local.get $i) (local.get $n))))
    (i32.store8 (i32.add (i32.const 9) (local.get $n)) (i32.const 125))
    (call $output (i32.const 0) (i32.add (i32.const 10) (local.get $n)))))
