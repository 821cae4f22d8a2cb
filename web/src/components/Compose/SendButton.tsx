"use client";

import ArrowDropDown from "@mui/icons-material/ArrowDropDown";
import ScheduleSend from "@mui/icons-material/ScheduleSend";
import Button from "@mui/material/Button";
import ButtonGroup from "@mui/material/ButtonGroup";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogTitle from "@mui/material/DialogTitle";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import ListSubheader from "@mui/material/ListSubheader";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import TextField from "@mui/material/TextField";
import { useId, useState } from "react";

import { formatSendAt, fromLocalInput, schedulePresets, toLocalInput } from "./schedule";

const SEND_KEY = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform) ? "⌘Enter" : "Ctrl+Enter";

interface SendButtonProps {
  onSend: (sendAt: string | null) => void;
  disabled?: boolean;
}

function PickTime({ open, onClose, onPick }: { open: boolean; onClose: () => void; onPick: (at: Date) => void }) {
  const titleId = useId();
  const [value, setValue] = useState(() => toLocalInput(schedulePresets()[0]!.at));
  const [openedAt] = useState(() => Date.now());
  const chosen = fromLocalInput(value);
  const past = chosen !== null && chosen.getTime() <= openedAt;
  const problem = chosen === null ? "Choose a date and a time." : past ? "Choose a time in the future." : null;
  return (
    <Dialog open={open} onClose={onClose} aria-labelledby={titleId}>
      <DialogTitle id={titleId}>Schedule send</DialogTitle>
      <DialogContent>
        <TextField
          type="datetime-local"
          label="Date and time"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          error={problem !== null}
          helperText={problem ?? (chosen ? formatSendAt(chosen) : " ")}
          slotProps={{ inputLabel: { shrink: true }, htmlInput: { min: toLocalInput(new Date(openedAt)) } }}
          sx={{ mt: 1, minWidth: 260 }}
        />
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="contained" disabled={problem !== null} onClick={() => chosen && onPick(chosen)}>
          Schedule send
        </Button>
      </DialogActions>
    </Dialog>
  );
}

/** Send, and beside it a menu to schedule the send for later. */
export function SendButton({ onSend, disabled }: SendButtonProps) {
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [picking, setPicking] = useState(false);
  const menuId = useId();
  const presets = anchor ? schedulePresets() : [];
  const schedule = (at: Date) => {
    setAnchor(null);
    setPicking(false);
    onSend(at.toISOString());
  };
  return (
    <>
      <ButtonGroup variant="contained" disabled={disabled} aria-label="Send">
        <Button onClick={() => onSend(null)} aria-keyshortcuts="Control+Enter Meta+Enter" title={`Send (${SEND_KEY})`} sx={{ px: 2.5, textTransform: "none", fontWeight: 600 }}>
          Send
        </Button>
        <Button
          size="small"
          aria-label="Schedule send"
          aria-haspopup="menu"
          aria-expanded={anchor !== null}
          aria-controls={anchor ? menuId : undefined}
          onClick={(event) => setAnchor(event.currentTarget)}
          sx={{ px: 0.5, minWidth: 0 }}
        >
          <ArrowDropDown />
        </Button>
      </ButtonGroup>
      <Menu
        id={menuId}
        anchorEl={anchor}
        open={anchor !== null}
        onClose={() => setAnchor(null)}
        anchorOrigin={{ vertical: "top", horizontal: "left" }}
        transformOrigin={{ vertical: "bottom", horizontal: "left" }}
      >
        <ListSubheader sx={{ lineHeight: "32px" }}>Schedule send</ListSubheader>
        {presets.map((preset) => (
          <MenuItem key={preset.label} onClick={() => schedule(preset.at)}>
            <ListItemText primary={preset.label} secondary={formatSendAt(preset.at)} />
          </MenuItem>
        ))}
        <MenuItem
          onClick={() => {
            setAnchor(null);
            setPicking(true);
          }}
        >
          <ListItemIcon>
            <ScheduleSend fontSize="small" />
          </ListItemIcon>
          <ListItemText>Pick date and time</ListItemText>
        </MenuItem>
      </Menu>
      {picking && <PickTime open={picking} onClose={() => setPicking(false)} onPick={schedule} />}
    </>
  );
}
