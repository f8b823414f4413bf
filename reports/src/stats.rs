//! Small-sample statistics for comparing two builds: means, 95 %
//! confidence intervals and Welch's t-test, with Student's t distribution
//! from the regularized incomplete beta function (Lentz's continued
//! fraction; Lanczos log-gamma).

/// Mean, sample standard deviation (n − 1) and count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
}

impl Summary {
    pub fn of(values: &[f64]) -> Summary {
        let n = values.len();
        let mean = if n == 0 { 0.0 } else { values.iter().sum::<f64>() / n as f64 };
        let variance =
            if n < 2 { 0.0 } else { values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64 };
        Summary { mean, sd: variance.sqrt(), n }
    }

    /// Half-width of the 95 % confidence interval of the mean.
    pub fn ci95(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        t_quantile(0.975, (self.n - 1) as f64) * self.sd / (self.n as f64).sqrt()
    }
}

/// Welch's two-sided t-test: (t, degrees of freedom, p).
pub fn welch(a: &Summary, b: &Summary) -> (f64, f64, f64) {
    let (va, vb) = (a.sd * a.sd / a.n.max(1) as f64, b.sd * b.sd / b.n.max(1) as f64);
    let difference = b.mean - a.mean;
    if va + vb == 0.0 {
        let p = if difference == 0.0 { 1.0 } else { 0.0 };
        return (if difference == 0.0 { 0.0 } else { f64::INFINITY.copysign(difference) }, f64::INFINITY, p);
    }
    let t = difference / (va + vb).sqrt();
    let df = (va + vb).powi(2)
        / (va * va / (a.n.saturating_sub(1).max(1)) as f64 + vb * vb / (b.n.saturating_sub(1).max(1)) as f64);
    (t, df, two_sided_p(t, df))
}

/// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom.
pub fn two_sided_p(t: f64, df: f64) -> f64 {
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// The quantile of Student's t at probability `p` (0.5 < p < 1), by bisection.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let (mut low, mut high) = (0.0, 1000.0);
    for _ in 0..200 {
        let middle = (low + high) / 2.0;
        if 1.0 - two_sided_p(middle, df) / 2.0 < p { low = middle } else { high = middle }
    }
    (low + high) / 2.0
}

fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 6] = [
        76.18009172947146,
        -86.50532032941677,
        24.01409824083091,
        -1.231739572450155,
        0.1208650973866179e-2,
        -0.5395239384953e-5,
    ];
    let mut y = x;
    let tmp = x + 5.5 - (x + 0.5) * (x + 5.5).ln();
    let mut series = 1.000000000190015;
    for g in G {
        y += 1.0;
        series += g / y;
    }
    -tmp + (2.5066282746310005 * series / x).ln()
}

/// The regularized incomplete beta function I_x(a, b).
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

/// A number in plain decimal notation with five significant digits (no
/// exponent), as a person reads a table.
pub fn plain_number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (4 - magnitude).clamp(0, 12) as usize;
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "-0" { "0".into() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Student's t tables: t(0.975) = 12.706 at 1 df, 2.262 at 9, 1.960 at ∞.
        assert!((t_quantile(0.975, 1.0) - 12.706).abs() < 0.01);
        assert!((t_quantile(0.975, 9.0) - 2.262).abs() < 0.001);
        assert!((t_quantile(0.975, 1e6) - 1.960).abs() < 0.001);
        assert!((two_sided_p(2.262, 9.0) - 0.05).abs() < 1e-3);
    }

    #[test]
    fn welch_separates_different_means_and_not_equal_ones() {
        let a = Summary::of(&[10.0, 11.0, 9.0, 10.5, 9.5]);
        let b = Summary::of(&[14.0, 15.0, 13.0, 14.5, 13.5]);
        let (t, _, p) = welch(&a, &b);
        assert!(t > 0.0 && p < 0.001, "t {t}, p {p}");
        let (_, _, same) = welch(&a, &Summary::of(&[10.2, 10.8, 9.1, 10.4, 9.4]));
        assert!(same > 0.5, "p {same}");
        assert_eq!(welch(&Summary::of(&[1.0, 1.0]), &Summary::of(&[1.0, 1.0])).2, 1.0);
        assert!((Summary::of(&[1.0, 2.0, 3.0]).sd - 1.0).abs() < 1e-12);
    }

    #[test]
    fn plain_numbers_have_no_exponent() {
        assert_eq!(plain_number(30.167), "30.167");
        assert_eq!(plain_number(1_234_567.0), "1234567");
        assert_eq!(plain_number(0.000_123_45), "0.00012345");
        assert_eq!(plain_number(-0.0), "0");
        assert_eq!(plain_number(2.5e-13), "0");
    }
}
