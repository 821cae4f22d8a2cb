"use client";

import ExpandMore from "@mui/icons-material/ExpandMore";
import Box from "@mui/material/Box";
import ButtonBase from "@mui/material/ButtonBase";
import Collapse from "@mui/material/Collapse";
import Typography from "@mui/material/Typography";
import { useId, type ReactNode } from "react";

interface ServerSettingsSectionProps {
  open: boolean;
  onToggle(): void;
  /** One line under the title while closed: what was found, or that it is being looked up. */
  summary: ReactNode;
  children: ReactNode;
}

/** "Server settings", folded: most people never need to see the servers. */
export function ServerSettingsSection({ open, onToggle, summary, children }: ServerSettingsSectionProps) {
  const id = useId();
  return (
    <Box sx={{ border: 1, borderColor: "divider", borderRadius: 1 }}>
      <ButtonBase
        onClick={onToggle}
        aria-expanded={open}
        aria-controls={id}
        sx={{
          width: "100%",
          justifyContent: "space-between",
          textAlign: "left",
          gap: 1,
          px: 1.5,
          py: 1,
          borderRadius: 1,
          "&.Mui-focusVisible": { outline: 2, outlineColor: "primary.main", outlineOffset: -2 },
        }}
      >
        <Box sx={{ minWidth: 0 }}>
          <Typography variant="subtitle2" component="span" sx={{ display: "block" }}>
            Server settings
          </Typography>
          <Typography
            variant="body2"
            color="text.secondary"
            component="span"
            sx={{ display: "block", overflowWrap: "anywhere" }}
          >
            {summary}
          </Typography>
        </Box>
        <ExpandMore
          aria-hidden
          sx={{ transform: open ? "rotate(180deg)" : "none", transition: "transform 150ms" }}
        />
      </ButtonBase>
      <Collapse in={open} timeout={150} unmountOnExit>
        <Box id={id} sx={{ px: 1.5, pb: 2 }}>
          {children}
        </Box>
      </Collapse>
    </Box>
  );
}
