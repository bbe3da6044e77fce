//! The image QEMU runs (`qemu-system-arm -machine mps2-an386 -cpu cortex-m4`, BENCHMARKS.md):
//! provisions the gateway from its blob, checks every token of build.rs's table and prints each
//! verdict with the claims it read, then measures one verify (stack by painting, instructions by
//! SysTick under `-icount shift=0`) next to the baseline of bare SHA-256 compressions. It exits
//! through semihosting: 0 if every verdict was the expected one, 1 otherwise.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use tessera_core::{Error, KeySet, Provisioning};
use tessera_gateway::{CASES, GATEWAY, MEASURED, NOW, PROVISIONING, SHORTEST, check};

#[entry]
fn main() -> ! {
    let passed = match cortex_m::Peripherals::take() {
        Some(p) => run(p.SYST),
        None => false,
    };
    debug::exit(if passed {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        core::hint::spin_loop();
    }
}

/// A panic in this image (its printing, not the verify path: `tessera-gateway` proves that one
/// panic-free at link time) fails the run.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        core::hint::spin_loop();
    }
}

fn run(mut syst: SYST) -> bool {
    let keys = match Provisioning::decode(PROVISIONING) {
        Ok(keys) => keys,
        Err(e) => {
            hprintln!("FAIL the provisioning blob is refused: {}", e);
            return false;
        }
    };
    let mut ids = [0u16; 4];
    for (slot, id) in ids.iter_mut().zip(keys.key_ids()) {
        *slot = id.get();
    }
    hprintln!(
        "gateway {}: a {}-byte provisioning blob (FORMAT.md §7) gives key ids {:?}; now = {}",
        GATEWAY,
        PROVISIONING.len(),
        &ids[..keys.key_ids().count()],
        NOW
    );

    let mut wrong = 0u32;
    let mut total = 0u32;
    for case in CASES {
        total += 1;
        let verdict = check(&keys, case.token, NOW);
        let ok = case.expect.matches(&verdict);
        let mark = if ok { "ok  " } else { "FAIL" };
        match &verdict {
            Ok(c) => hprintln!(
                "{} {}: accepted: key {}, sub {:?}, scope {:?}, client {}, aud {}, iat {}, exp {}, jti {}",
                mark,
                case.name,
                c.key_id(),
                c.grant().subject.as_str(),
                c.grant().scope.as_str(),
                c.grant().client_id,
                c.grant().audience.len(),
                c.issued_at(),
                c.expires_at(),
                c.token_id()
            ),
            Err(e) => hprintln!("{} {}: rejected: {:?} ({})", mark, case.name, e, e),
        }
        if !ok {
            hprintln!("     expected {:?}", case.expect);
            wrong += 1;
        }
    }
    total += 1;
    if !damaged_blobs_are_refused() {
        wrong += 1;
    }
    hprintln!("{} of {} verdicts as expected", total - wrong, total);

    measure(&mut syst, &keys);
    wrong == 0
}

/// The device refuses a blob with any one bit flipped, and one cut short by a byte.
fn damaged_blobs_are_refused() -> bool {
    let mut copy = [0u8; tessera_core::PROVISIONING_MAX_LEN];
    let Some(copy) = copy.get_mut(..PROVISIONING.len()) else {
        return false;
    };
    let mut refused = 0usize;
    for bit in 0..PROVISIONING.len() * 8 {
        copy.copy_from_slice(PROVISIONING);
        copy[bit / 8] ^= 1 << (bit % 8);
        refused +=
            usize::from(Provisioning::decode(copy).err() == Some(Error::MalformedProvisioning));
    }
    let short = Provisioning::decode(&PROVISIONING[..PROVISIONING.len() - 1]).err();
    let ok = refused == PROVISIONING.len() * 8 && short == Some(Error::MalformedProvisioning);
    hprintln!(
        "{} damaged blobs: {} of {} single-bit flips refused, truncation: {:?}",
        if ok { "ok  " } else { "FAIL" },
        refused,
        PROVISIONING.len() * 8,
        short
    );
    ok
}

/// Runs of each measured operation; their mean gives a resolution well under one instruction.
const RUNS: u32 = 64;

fn measure(syst: &mut SYST, keys: &KeySet) {
    let stack = peak_stack(|| {
        black_box(check(black_box(keys), black_box(MEASURED), black_box(NOW)).is_ok());
    });
    hprintln!(
        "stack: one verify of the {}-character token uses {} bytes below its caller (painted)",
        MEASURED.len(),
        stack
    );

    // SysTick counts the core clock; under `-icount shift=0` QEMU advances that clock by a
    // fixed amount per instruction, so ticks are instructions times a constant. `delay(n)` is
    // `subs; bne` executed n + 1 times: 2(n + 1) instructions. It calibrates the constant.
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00ff_ffff);
    syst.clear_current();
    syst.enable_counter();
    const DELAY: u32 = 99_999;
    let calibration = ticks(|| cortex_m::asm::delay(black_box(DELAY)));
    let reference = 2 * (u64::from(DELAY) + 1);
    let per_run = |f: &mut dyn FnMut()| -> u64 {
        let total = ticks(|| {
            for _ in 0..RUNS {
                f();
            }
        });
        let empty = ticks(|| {
            for _ in 0..RUNS {
                black_box(());
            }
        });
        // instructions = ticks * reference / calibration, rounded; per run.
        let net = total.saturating_sub(empty);
        (net * reference + calibration * u64::from(RUNS) / 2) / (calibration * u64::from(RUNS))
    };
    hprintln!(
        "instructions (QEMU -icount, SysTick): calibration {} ticks for {} instructions",
        calibration,
        reference
    );

    let mut state = [0u32; 8];
    let blocks = [[0x5au8; 64]; 3];
    let one = per_run(&mut || sha2::block_api::compress256(&mut state, black_box(&blocks[..1])));
    let three = per_run(&mut || sha2::block_api::compress256(&mut state, black_box(&blocks[..])));
    black_box(state);
    let verify = per_run(&mut || {
        black_box(check(black_box(keys), black_box(MEASURED), black_box(NOW)).is_ok());
    });
    let shortest = per_run(&mut || {
        black_box(check(black_box(keys), black_box(SHORTEST), black_box(NOW)).is_ok());
    });
    let forged = CASES
        .iter()
        .find(|c| c.name.starts_with("tampered tag"))
        .map_or(0, |c| {
            per_run(&mut || {
                black_box(check(black_box(keys), black_box(c.token), black_box(NOW)).is_err());
            })
        });
    // Where the rest goes: the body's base64url decoding and the MAC alone.
    let body_text = MEASURED
        .as_bytes()
        .get(7..MEASURED.len() - 22)
        .unwrap_or_default();
    let mut body = [0u8; 384];
    let decode = per_run(&mut || {
        black_box(
            tessera_core::encoding::base64url_decode(black_box(body_text), &mut body).is_some(),
        );
    });
    let signed = MEASURED
        .as_bytes()
        .get(..MEASURED.len() - 22)
        .unwrap_or_default();
    let subkey = [0x1du8; 32];
    let mac = per_run(&mut || {
        black_box(tessera_core::internal::hmac_sha256(
            black_box(&subkey),
            black_box(signed),
        ));
    });
    let provision = per_run(&mut || {
        black_box(Provisioning::decode(black_box(PROVISIONING)).is_ok());
    });
    hprintln!("  SHA-256 compression, 1 block:   {} instructions", one);
    hprintln!(
        "  SHA-256 compression, 3 blocks:  {} instructions (the baseline)",
        three
    );
    hprintln!(
        "  verify, {} characters (4 compressions): {} instructions = {}.{:02}x the baseline",
        MEASURED.len(),
        verify,
        verify / three,
        verify * 100 / three % 100
    );
    hprintln!(
        "  verify, {} characters (3 compressions): {} instructions = {}.{:02}x the baseline",
        SHORTEST.len(),
        shortest,
        shortest / three,
        shortest * 100 / three % 100
    );
    hprintln!(
        "  forged tag, refused after the MAC: {} instructions",
        forged
    );
    hprintln!(
        "  base64url decoding of its {}-character body alone: {} instructions",
        body_text.len(),
        decode
    );
    hprintln!(
        "  one-shot HMAC-SHA256 of its {} signed bytes (keying included: 6 compressions): {}",
        signed.len(),
        mac
    );
    hprintln!(
        "  decode the provisioning blob ({} keys): {} instructions",
        keys.key_ids().count(),
        provision
    );
}

/// SysTick ticks elapsed while `f` runs (the counter counts down from 2^24 - 1 and wraps).
#[inline(never)]
fn ticks(f: impl FnOnce()) -> u64 {
    let start = SYST::get_current();
    f();
    let end = SYST::get_current();
    u64::from(start.wrapping_sub(end) & 0x00ff_ffff)
}

/// Painted stack words hold this until something writes them.
const PAINT: u32 = 0xA5C3_5A3C;

unsafe extern "C" {
    /// cortex-m-rt's link.x: the lowest address the stack may reach (just above `.bss`).
    static _stack_end: u32;
}

/// Bytes of stack `f` uses below this function's frame: paint the free stack, run `f`, find the
/// lowest word that no longer holds the paint.
#[inline(never)]
fn peak_stack(f: impl FnOnce()) -> usize {
    let bottom = (&raw const _stack_end) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let top = sp - 64;
    for addr in (bottom..top).step_by(4) {
        // SAFETY: [bottom, top) is free stack: below the live frames (`sp`, minus a margin),
        // above every static (`_stack_end`), and no interrupt is enabled that could use it.
        unsafe { (addr as *mut u32).write_volatile(PAINT) };
    }
    f();
    let lowest = (bottom..top)
        .step_by(4)
        // SAFETY: the same words, now possibly written by `f`'s frames; all are initialised.
        .find(|&addr| unsafe { (addr as *const u32).read_volatile() } != PAINT)
        .unwrap_or(top);
    sp - lowest
}
