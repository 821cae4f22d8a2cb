import Box from "@mui/material/Box";
import LinearProgress from "@mui/material/LinearProgress";
import Typography from "@mui/material/Typography";

import type { PasswordStrength } from "@/api/auth";

export const SCORE_LABELS = ["Very weak", "Weak", "Fair", "Strong", "Very strong"] as const;
const SCORE_COLORS = ["error", "error", "warning", "success", "success"] as const;

interface StrengthMeterProps {
  /** Referenced by the password field's aria-describedby. */
  id: string;
  strength: PasswordStrength | undefined;
  checking: boolean;
  unavailable?: boolean;
}

function clampScore(score: number): 0 | 1 | 2 | 3 | 4 {
  return Math.min(4, Math.max(0, Math.round(score))) as 0 | 1 | 2 | 3 | 4;
}

/** zxcvbn score as a colored bar, with the warning and suggestions under it. */
export function StrengthMeter({ id, strength, checking, unavailable = false }: StrengthMeterProps) {
  if (strength === undefined) {
    return (
      <Box id={id} aria-live="polite">
        {checking && (
          <Typography variant="caption" color="text.secondary">
            Checking strength…
          </Typography>
        )}
        {!checking && unavailable && (
          <Typography variant="caption" color="text.secondary">
            Strength check unavailable; the password is still checked when you submit.
          </Typography>
        )}
      </Box>
    );
  }

  const score = clampScore(strength.score);
  const label = SCORE_LABELS[score];
  return (
    <Box id={id} sx={{ mt: -1 }}>
      <LinearProgress
        variant="determinate"
        value={(score + 1) * 20}
        color={SCORE_COLORS[score]}
        aria-label="Password strength"
        aria-valuetext={label}
        sx={{ height: 6, borderRadius: 3, opacity: checking ? 0.6 : 1 }}
      />
      <Box aria-live="polite" sx={{ mt: 0.5 }}>
        <Typography variant="caption" component="p" data-testid="strength-label">
          Strength: {label}
          {!strength.acceptable && " — choose a stronger password"}
          {strength.crack_time_display && ` · cracked in ${strength.crack_time_display}`}
        </Typography>
        {strength.warning && (
          <Typography variant="caption" component="p" color="warning.main">
            {strength.warning}
          </Typography>
        )}
        {strength.suggestions.length > 0 && (
          <Box component="ul" sx={{ m: 0, pl: 2.5 }}>
            {strength.suggestions.map((suggestion) => (
              <Typography key={suggestion} variant="caption" component="li" color="text.secondary">
                {suggestion}
              </Typography>
            ))}
          </Box>
        )}
      </Box>
    </Box>
  );
}
