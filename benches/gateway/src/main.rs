//! A gateway's whole use of Tessera, and nothing else: read the provisioning blob, verify one
//! bearer token and check its audience.
//!
//! Built to measure what the verify path costs in flash on a Cortex-M4 (`llvm-size`, see
//! BENCHMARKS.md) and to prove that no panic survives in it: the panic handler calls a symbol
//! that exists nowhere, so if any panic path is still reachable after inlining and LTO, the
//! release build fails to link. (`gateway-check`, in src/bin, is the image QEMU runs.)
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use tessera_core::Provisioning;
use tessera_gateway::{MEASURED, NOW, PROVISIONING, check};

#[entry]
fn main() -> ! {
    let verdict = Provisioning::decode(black_box(PROVISIONING))
        .and_then(|keys| check(&keys, black_box(MEASURED), black_box(NOW)));
    black_box(verdict.is_ok());
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // Declared, never defined: a reachable panic is an "undefined symbol" link error that
    // names this function. `safe fn` needs no `unsafe` block at the call: it takes nothing and
    // never returns, and it is never called unless the link has already failed.
    unsafe extern "C" {
        safe fn tessera_gateway_verify_path_can_panic() -> !;
    }
    tessera_gateway_verify_path_can_panic()
}
