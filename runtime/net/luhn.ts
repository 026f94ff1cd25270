// Luhn check digit, shared by the generated IMEI/ICCID numbers of the PC board and the modem model.

/** Luhn check digit for a string of decimal digits. */
export function luhn(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}
