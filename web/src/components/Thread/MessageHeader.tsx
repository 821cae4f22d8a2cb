"use client";

import ExpandLess from "@mui/icons-material/ExpandLess";
import ExpandMore from "@mui/icons-material/ExpandMore";
import Star from "@mui/icons-material/Star";
import Avatar from "@mui/material/Avatar";
import Box from "@mui/material/Box";
import IconButton from "@mui/material/IconButton";
import Link from "@mui/material/Link";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import { useId, useState, type ReactNode } from "react";

import type { Address, Message } from "@/api/thread";

import {
  displayName,
  formatAddress,
  formatCardDate,
  formatFullDate,
  formatShortDate,
  initials,
  messageDate,
  recipientsSummary,
  unsubscribeTarget,
} from "./format";

// Avatar colours that keep white initials above 4.5:1 contrast on both themes.
const AVATAR_COLOURS = ["#1565c0", "#2e7d32", "#6a1b9a", "#c62828", "#00695c", "#4e342e", "#283593", "#ad1457"];

function avatarColour(address: string): string {
  let hash = 0;
  for (const char of address.toLowerCase()) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return AVATAR_COLOURS[hash % AVATAR_COLOURS.length] ?? "#1565c0";
}

export function SenderAvatar({ address, size = 40 }: { address: Address; size?: number }) {
  return (
    <Avatar
      aria-hidden
      sx={{ width: size, height: size, fontSize: size * 0.4, bgcolor: avatarColour(address.address), color: "#fff" }}
    >
      {initials(address)}
    </Avatar>
  );
}

function DetailRow({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <Box component="dt" sx={{ color: "text.secondary", textAlign: "right" }}>
        {label}:
      </Box>
      <Box component="dd" sx={{ m: 0, minWidth: 0, overflowWrap: "anywhere" }}>
        {children}
      </Box>
    </>
  );
}

interface MessageHeaderProps {
  message: Message;
  own: ReadonlySet<string>;
  /** The message's own menu (rendered at the right). */
  menu: ReactNode;
}

/** Sender, recipients ("to me, Ana"), date, star, and the full address details on demand. */
export function MessageHeader({ message, own, menu }: MessageHeaderProps) {
  const [details, setDetails] = useState(false);
  const detailsId = useId();
  const sender = message.from;
  const date = messageDate(message);
  const unsubscribe = unsubscribeTarget(message.list_unsubscribe);
  const list = (addresses: Address[]) => addresses.map(formatAddress).join(", ");

  return (
    <Box>
      <Box sx={{ display: "flex", alignItems: "flex-start", gap: 1.5 }}>
        <SenderAvatar address={sender} />
        <Box sx={{ flex: 1, minWidth: 0 }}>
          <Box sx={{ display: "flex", alignItems: "baseline", flexWrap: "wrap", columnGap: 1 }}>
            <Typography component="span" noWrap sx={{ fontWeight: 600, maxWidth: "100%" }}>
              {displayName(sender)}
            </Typography>
            {sender.address && sender.address !== displayName(sender) && (
              // On a phone the address waits in the details, leaving the line to the name.
              <Typography
                component="span"
                variant="body2"
                sx={{ display: { xs: "none", sm: "inline" }, color: "text.secondary", overflowWrap: "anywhere" }}
              >
                {`<${sender.address}>`}
              </Typography>
            )}
            {unsubscribe !== null && (
              <Link
                variant="body2"
                href={unsubscribe}
                target="_blank"
                rel="noopener noreferrer"
                onClick={(event) => event.stopPropagation()}
              >
                Unsubscribe
              </Link>
            )}
          </Box>
          <Box sx={{ display: "flex", alignItems: "center", minWidth: 0 }}>
            <Typography
              variant="body2"
              noWrap
              sx={{ color: "text.secondary", minWidth: 0 }}
              title={list([...message.to, ...message.cc])}
            >
              {recipientsSummary(message, own)}
            </Typography>
            <Tooltip title={details ? "Hide details" : "Show details"}>
              <IconButton
                size="small"
                aria-label={details ? "Hide details" : "Show details"}
                aria-expanded={details}
                aria-controls={details ? detailsId : undefined}
                onClick={(event) => {
                  event.stopPropagation();
                  setDetails((value) => !value);
                }}
                sx={{ p: 0.25 }}
              >
                {details ? <ExpandLess fontSize="small" /> : <ExpandMore fontSize="small" />}
              </IconButton>
            </Tooltip>
          </Box>
        </Box>
        <Box sx={{ display: "flex", alignItems: "center", gap: 0.5, flexShrink: 0 }}>
          <Typography
            component="time"
            variant="body2"
            dateTime={date}
            title={formatFullDate(date)}
            sx={{ color: "text.secondary", fontVariantNumeric: "tabular-nums", whiteSpace: "nowrap" }}
          >
            <Box component="span" sx={{ display: { xs: "none", sm: "inline" } }}>
              {formatCardDate(date)}
            </Box>
            <Box component="span" sx={{ display: { xs: "inline", sm: "none" } }}>
              {formatShortDate(date)}
            </Box>
          </Typography>
          {message.is_starred && (
            <Tooltip title="Starred">
              <Star
                role="img"
                aria-label="Starred"
                aria-hidden={false}
                fontSize="small"
                sx={{ color: "warning.main" }}
              />
            </Tooltip>
          )}
          {menu}
        </Box>
      </Box>
      {details && (
        <Box
          id={detailsId}
          component="dl"
          sx={{
            display: "grid",
            gridTemplateColumns: "auto 1fr",
            columnGap: 1,
            rowGap: 0.25,
            m: 0,
            mt: 1,
            ml: { xs: 0, sm: 6.5 },
            typography: "body2",
          }}
        >
          <DetailRow label="From">{formatAddress(sender)}</DetailRow>
          {message.reply_to.length > 0 && <DetailRow label="Reply to">{list(message.reply_to)}</DetailRow>}
          {message.to.length > 0 && <DetailRow label="To">{list(message.to)}</DetailRow>}
          {message.cc.length > 0 && <DetailRow label="Cc">{list(message.cc)}</DetailRow>}
          {message.bcc.length > 0 && <DetailRow label="Bcc">{list(message.bcc)}</DetailRow>}
          <DetailRow label="Date">{formatFullDate(date)}</DetailRow>
          {message.subject && <DetailRow label="Subject">{message.subject}</DetailRow>}
        </Box>
      )}
    </Box>
  );
}
