import Card from "@mui/material/Card";
import CardContent from "@mui/material/CardContent";
import Typography from "@mui/material/Typography";
import type { ReactNode } from "react";

interface SectionCardProps {
  id: string;
  title: string;
  description?: ReactNode;
  /** Shown at the right of the title, e.g. a status chip. */
  action?: ReactNode;
  children: ReactNode;
}

/** One titled section of a settings page, labelled for assistive technology. */
export function SectionCard({ id, title, description, action, children }: SectionCardProps) {
  return (
    <Card variant="outlined" component="section" aria-labelledby={`${id}-title`}>
      <CardContent sx={{ p: { xs: 2, sm: 3 } }}>
        <Typography
          id={`${id}-title`}
          variant="h6"
          component="h2"
          sx={{ display: "flex", alignItems: "center", gap: 1, flexWrap: "wrap" }}
        >
          {title}
          {action}
        </Typography>
        {description && (
          <Typography variant="body2" color="text.secondary" sx={{ mt: 0.5, mb: 2 }}>
            {description}
          </Typography>
        )}
        {children}
      </CardContent>
    </Card>
  );
}
