"use client";

import Box from "@mui/material/Box";
import FormHelperText from "@mui/material/FormHelperText";
import ListSubheader from "@mui/material/ListSubheader";
import MenuItem from "@mui/material/MenuItem";
import Select from "@mui/material/Select";
import Typography from "@mui/material/Typography";
import { useId, useMemo } from "react";

import { useAccounts } from "@/api/accounts";
import { useIdentities } from "@/api/compose";

import { formatRecipient } from "./recipients";

export interface FromOption {
  accountId: string;
  mailbox: string;
  name: string;
  address: string;
}

/** Every address the user may send from: each mailbox and its send-as addresses. */
export function useFromOptions(): FromOption[] {
  const accounts = useAccounts().data;
  const ids = useMemo(() => (accounts ?? []).map((account) => account.id), [accounts]);
  const identities = useIdentities(ids);
  return useMemo(() => {
    const options: FromOption[] = [];
    (accounts ?? []).forEach((account, index) => {
      const identity = identities[index]?.data;
      const name = identity?.sender_name || "";
      options.push({ accountId: account.id, mailbox: account.email, name, address: account.email });
      for (const alias of identity?.send_as ?? []) {
        if (alias.address.toLowerCase() === account.email.toLowerCase()) continue;
        options.push({ accountId: account.id, mailbox: account.email, name: alias.name || name, address: alias.address });
      }
    });
    return options;
  }, [accounts, identities]);
}

interface FromFieldProps {
  options: readonly FromOption[];
  value: string;
  accountId: string | null;
  /** Another mailbox cannot take the draft's files along (they are stored with the draft). */
  lockAccount: boolean;
  onChange: (option: FromOption) => void;
  error?: string;
}

/** The sender, when there is a choice: several mailboxes, or send-as addresses. */
export function FromField({ options, value, accountId, lockAccount, onChange, error }: FromFieldProps) {
  const labelId = useId();
  const mailboxes = [...new Set(options.map((option) => option.mailbox))];
  const selected = options.find((option) => option.address.toLowerCase() === value.toLowerCase() && option.accountId === accountId)
    ?? options.find((option) => option.address.toLowerCase() === value.toLowerCase());
  const key = (option: FromOption) => `${option.accountId}|${option.address}`;
  return (
    <Box sx={{ borderBottom: 1, borderColor: error ? "error.main" : "divider" }}>
      <Box sx={{ display: "flex", alignItems: "center", minHeight: 40 }}>
        <Typography id={labelId} variant="body2" sx={{ color: "text.secondary", minWidth: 40 }}>
          From
        </Typography>
        <Select
          variant="standard"
          disableUnderline
          value={selected ? key(selected) : ""}
          onChange={(event) => {
            const option = options.find((item) => key(item) === event.target.value);
            if (option) onChange(option);
          }}
          inputProps={{ "aria-labelledby": labelId }}
          renderValue={() => (selected ? formatRecipient(selected) : value)}
          sx={{ flex: 1, minWidth: 0, fontSize: 14 }}
        >
          {mailboxes.flatMap((mailbox) => {
            const group = options.filter((option) => option.mailbox === mailbox);
            const elsewhere = accountId !== null && group[0]?.accountId !== accountId;
            const locked = elsewhere && lockAccount;
            return [
              ...(mailboxes.length > 1
                ? [
                    <ListSubheader key={`h-${mailbox}`}>
                      {locked ? `${mailbox} (remove the attachments to send from it)` : mailbox}
                    </ListSubheader>,
                  ]
                : []),
              ...group.map((option) => (
                <MenuItem key={key(option)} value={key(option)} disabled={locked}>
                  {formatRecipient(option)}
                </MenuItem>
              )),
            ];
          })}
        </Select>
      </Box>
      {error && (
        <FormHelperText error role="alert">
          {error}
        </FormHelperText>
      )}
    </Box>
  );
}
